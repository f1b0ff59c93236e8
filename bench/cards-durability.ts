/**
 * What a power-cut-safe admin write costs: N single-binding writes with `normal` durability
 * (WAL synced at checkpoints only) next to N with `full` (WAL synced at each commit), in
 * alternating rounds of the same run, on a store in a directory of the real disk.
 *
 *   node dist/bench/cards-durability.js [--writes N] [--dir DIR]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCardStore, type Durability } from '../src/cards/store.js';

export interface DurabilityResult {
  writes: number;
  normalMs: { median: number; p99: number; total: number };
  fullMs: { median: number; p99: number; total: number };
}

function stats(xs: number[]): { median: number; p99: number; total: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p99: at(0.99), total: xs.reduce((a, b) => a + b, 0) };
}

export function benchDurability(writes = 200, dir?: string): DurabilityResult {
  const base = fs.mkdtempSync(path.join(dir ?? os.tmpdir(), 'hg-bench-durability-'));
  const store = openCardStore({ dataDir: base });
  const times: Record<Durability, number[]> = { normal: [], full: [] };
  try {
    for (let i = 0; i < writes; i++) {
      // Alternate, so both kinds see the same disk and the same load.
      for (const d of (i % 2 === 0 ? ['normal', 'full'] : ['full', 'normal']) as Durability[]) {
        const cardId = `${d === 'full' ? '06' : '05'}${i.toString(16).toUpperCase().padStart(8, '0')}`;
        const t = performance.now();
        store.putBindings([{ cardId, hesCode: 'A1B2345678', profile: 'standard' }], d);
        times[d].push(performance.now() - t);
      }
    }
  } finally {
    store.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
  return { writes, normalMs: stats(times.normal), fullMs: stats(times.full) };
}

const isMain = process.argv[1] !== undefined && import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const r = benchDurability(Number(arg('--writes') ?? 200), arg('--dir'));
  const f = (x: number): string => `${x.toFixed(2)} ms`;
  console.log(`${r.writes} single-binding writes of each kind, alternating, same store`);
  console.log(`  normal: median ${f(r.normalMs.median)}, p99 ${f(r.normalMs.p99)}, total ${f(r.normalMs.total)}`);
  console.log(`  full:   median ${f(r.fullMs.median)}, p99 ${f(r.fullMs.p99)}, total ${f(r.fullMs.total)}  (${(r.fullMs.median / r.normalMs.median).toFixed(1)}× the median)`);
}
