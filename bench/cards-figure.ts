/**
 * Card figures, as a figure of the suite: runs `benchCards` from bench/cards.ts (a colleague's
 * module: binding lookup vs Map.get, card-tap decisions/s, start-to-ready and RSS with 1M
 * bindings) when that file exists, and turns what it returns into table rows.
 *
 * HOOK: until bench/cards.ts lands, this reports "not present". It is loaded by a computed
 * specifier so the suite compiles and runs without it. When it lands: if `benchCards` returns
 * `{ rows: Row[] }` (report.ts) those rows are used as they are; otherwise every numeric field
 * of its result becomes an informational row, and a `formatCards(result)` export, if any, prints.
 * Run alone: `node dist/bench/cards-figure.js [--quick]`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { isMain, runAlone, type BenchOptions, type FigureReport, type Row } from './report.js';

interface CardsModule {
  benchCards?: (opts: Record<string, unknown>) => Promise<unknown>;
  formatCards?: (result: unknown) => string;
}

function numericRows(prefix: string, value: unknown, out: Row[]): void {
  if (typeof value === 'number') {
    out.push({ figure: `cards: ${prefix}`, baseline: '—', measured: Number.isInteger(value) ? value.toLocaleString('en-US') : value.toPrecision(4), target: '—', met: null });
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) numericRows(prefix === '' ? k : `${prefix}.${k}`, v, out);
  }
}

function isRows(x: unknown): x is { rows: Row[] } {
  const rows = (x as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) && rows.every((r) => typeof (r as Row).figure === 'string' && typeof (r as Row).measured === 'string');
}

export async function benchCardsFigure(o: BenchOptions = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const url = new URL('./cards.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    console.log('cards: bench/cards.ts is not present yet (hook in bench/cards-figure.ts)');
    return {
      name: 'cards',
      rows: [{ figure: 'card figures (bench/cards.ts)', baseline: '—', measured: 'not present yet', target: '—', met: null }],
      details: { present: false },
      durationMs: performance.now() - began,
    };
  }
  const mod = (await import(url.href)) as CardsModule;
  if (typeof mod.benchCards !== 'function') throw new Error('bench/cards.js does not export benchCards');
  const result = await mod.benchCards({ quick: o.quick });
  if (typeof mod.formatCards === 'function') console.log(mod.formatCards(result));
  let rows: Row[];
  if (isRows(result)) rows = result.rows;
  else {
    rows = [];
    numericRows('', result, rows);
  }
  return { name: 'cards', rows, details: { present: true, result }, durationMs: performance.now() - began };
}

if (isMain(import.meta.url)) runAlone(benchCardsFigure);
