/**
 * Card figures: what a station with a million bindings costs.
 *
 *   generate CSV (N rows) ─> importCards (timed) ─> close ─> openCardStore (timed, RSS)
 *     ─> getBinding × M (ns/op)   next to   Map.get × M over the same ids (baseline, same run)
 *
 * Run alone after a build: `node dist/bench/cards.js [--quick]` (quick: 100k rows).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importCards } from '../src/cards/import.js';
import { openCardStore } from '../src/cards/store.js';

export interface BenchCardsOptions {
  /** 100k bindings instead of 1M. */
  quick?: boolean;
  /** @default 1_000_000 (100_000 when quick) */
  rows?: number;
  /** Lookups timed per measurement. @default 1_000_000 */
  lookups?: number;
  /** Rows per import transaction. @default 5000 */
  batchSize?: number;
  /** Where the CSV and the store go; removed afterwards. @default a temp dir */
  dir?: string;
}

interface Row {
  figure: string;
  baseline: string;
  measured: string;
  target: string;
  met: boolean | null;
}

export interface BenchCardsResult {
  rows: Row[];
  bindings: number;
  csvMiB: number;
  importMs: number;
  importRowsPerSecond: number;
  dbMiB: number;
  openMs: number;
  rssAfterOpenMiB: number;
  lookupHitNs: number;
  lookupMissNs: number;
  mapGetNs: number;
}

/** Deterministic, well-spread 7-byte card ids and codes (like real UIDs: no order to exploit). */
export function rowFor(i: number): { cardId: string; hesCode: string } {
  const h = crypto.createHash('sha1').update(`card-${i}`).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let code = '';
  for (let k = 0; k < 10; k++) code += alphabet[h[7 + k]! % 36];
  return { cardId: `04${h.subarray(0, 6).toString('hex').toUpperCase()}`, hesCode: code };
}

export async function writeCsv(file: string, n: number): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('card_id,hes_code,profile\n');
  let buf = '';
  for (let i = 0; i < n; i++) {
    const { cardId, hesCode } = rowFor(i);
    buf += `${cardId},${hesCode},${i % 10 === 0 ? 'student' : 'standard'}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  await new Promise<void>((resolve, reject) => out.end(buf, () => resolve()).on('error', reject));
}

function nsPerOp(ids: readonly string[], ops: number, f: (id: string) => unknown): number {
  let sink = 0;
  // Warm up, then time.
  for (let i = 0; i < Math.min(ops, 50_000); i++) if (f(ids[i % ids.length]!) !== undefined) sink++;
  const t = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) if (f(ids[i % ids.length]!) !== undefined) sink++;
  const ns = Number(process.hrtime.bigint() - t) / ops;
  if (sink < 0) console.log(sink); // keep the loop observable
  return ns;
}

const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

export async function benchCards(opts: BenchCardsOptions = {}): Promise<BenchCardsResult> {
  const n = opts.rows ?? (opts.quick ? 100_000 : 1_000_000);
  const lookups = opts.lookups ?? 1_000_000;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hg-bench-cards-'));
  const csv = path.join(dir, 'cards.csv');
  const dataDir = path.join(dir, 'data');
  try {
    await writeCsv(csv, n);

    let store = openCardStore({ dataDir });
    const t0 = performance.now();
    const report = await importCards({ store, file: csv, batchSize: opts.batchSize ?? 5000 });
    const importMs = performance.now() - t0;
    store.close();
    if (report.imported !== n) throw new Error(`imported ${report.imported} of ${n} rows`);

    const t1 = performance.now();
    store = openCardStore({ dataDir });
    const count = store.countBindings();
    const openMs = performance.now() - t1;
    const rssAfterOpenMiB = mib(process.memoryUsage().rss);

    // 100k ids spread over the whole key space, looked up round-robin.
    const sample = Array.from({ length: 100_000 }, (_, k) => rowFor(Math.floor((k * n) / 100_000)).cardId);
    const misses = sample.map((id) => `05${id.slice(2)}`);
    const lookupHitNs = nsPerOp(sample, lookups, (id) => store.getBinding(id));
    const lookupMissNs = nsPerOp(misses, lookups, (id) => store.getBinding(id));
    const dbMiB = mib(fs.statSync(store.file).size);
    store.close();

    const map = new Map<string, { hesCode: string; profile: string }>();
    for (let i = 0; i < n; i++) {
      const r = rowFor(i);
      map.set(r.cardId, { hesCode: r.hesCode, profile: 'standard' });
    }
    const mapGetNs = nsPerOp(sample, lookups, (id) => map.get(id));

    const fmtNs = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} µs` : `${x.toFixed(0)} ns`);
    const rows: Row[] = [
      { figure: `cards: binding lookup, hit (${count.toLocaleString('en-US')} bindings)`, baseline: `Map.get ${fmtNs(mapGetNs)}`, measured: fmtNs(lookupHitNs), target: `${(lookupHitNs / mapGetNs).toFixed(0)}× Map (≤ 20 µs)`, met: lookupHitNs <= 20_000 },
      { figure: 'cards: binding lookup, miss', baseline: `Map.get ${fmtNs(mapGetNs)}`, measured: fmtNs(lookupMissNs), target: '≤ 20 µs', met: lookupMissNs <= 20_000 },
      { figure: `cards: import ${n.toLocaleString('en-US')} rows (CSV ${mib(fs.statSync(csv).size)} MiB)`, baseline: '—', measured: `${(importMs / 1000).toFixed(1)} s (${Math.round(n / (importMs / 1000)).toLocaleString('en-US')} rows/s)`, target: '—', met: null },
      { figure: 'cards: store open with all bindings', baseline: '—', measured: `${openMs.toFixed(1)} ms`, target: '≤ 1 s', met: openMs <= 1000 },
      { figure: 'cards: RSS after open', baseline: '—', measured: `${rssAfterOpenMiB} MiB`, target: '—', met: null },
      { figure: 'cards: database file', baseline: '—', measured: `${dbMiB} MiB`, target: '—', met: null },
    ];
    return {
      rows,
      bindings: count,
      csvMiB: mib(fs.statSync(csv).size),
      importMs: Math.round(importMs),
      importRowsPerSecond: Math.round(n / (importMs / 1000)),
      dbMiB,
      openMs: Math.round(openMs * 10) / 10,
      rssAfterOpenMiB,
      lookupHitNs: Math.round(lookupHitNs),
      lookupMissNs: Math.round(lookupMissNs),
      mapGetNs: Math.round(mapGetNs),
    };
  } finally {
    if (opts.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The result as a table a person can read. */
export function formatCards(result: BenchCardsResult): string {
  const header = ['figure', 'baseline (same run)', 'measured', 'target', 'met?'];
  const body = result.rows.map((r) => [r.figure, r.baseline, r.measured, r.target, r.met === null ? '' : r.met ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchCards({ quick: process.argv.includes('--quick') });
  console.log(formatCards(result));
}
