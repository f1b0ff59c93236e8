/**
 * What every benchmark module hands back: rows for the final table (figure | baseline |
 * measured | target | met?) and the raw numbers for `bench/results/latest.json`. Plus the small
 * statistics and formatting helpers the modules share.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Row {
  figure: string;
  /** The baseline measured in the same run, or '—' when the target is absolute. */
  baseline: string;
  measured: string;
  /** Ratio or limit, e.g. "0.82× (≥ 0.75×)" or "≤ 2 ms". */
  target: string;
  /** null: informational, no target. */
  met: boolean | null;
}

export interface FigureReport {
  name: string;
  rows: Row[];
  /** Everything measured, for the JSON file. */
  details: Record<string, unknown>;
  durationMs: number;
}

export interface BenchOptions {
  /** Shorter durations for development; the default run is the real one. */
  quick: boolean;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const ms = (v: number, digits = 3): string => `${v.toFixed(digits)} ms`;
export const perSec = (v: number): string => `${Math.round(v).toLocaleString('en-US')}/s`;
export const ratio = (v: number): string => `${v.toFixed(2)}×`;

export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

export function metLabel(met: boolean | null): string {
  return met === null ? 'info' : met ? 'yes' : 'NO';
}

export function rowsTable(rows: readonly Row[]): string {
  return table(
    ['figure', 'baseline (same run)', 'measured', 'ratio / target', 'met?'],
    rows.map((r) => [r.figure, r.baseline, r.measured, r.target, metLabel(r.met)]),
  );
}

/** True when this module is the script node was started with (run alone). */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(metaUrl) === resolve(process.argv[1]);
}

/** Run one module alone: `node dist/bench/<module>.js [--quick]`, print its rows. */
export function runAlone(fn: (o: BenchOptions) => Promise<FigureReport>): void {
  const quick = process.argv.includes('--quick');
  fn({ quick }).then(
    (r) => {
      console.log(`\n${rowsTable(r.rows)}`);
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

export const sleep = (msDelay: number): Promise<void> => new Promise((r) => setTimeout(r, msDelay));
