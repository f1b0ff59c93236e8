/**
 * The decision journal's cost: cache-hit decision throughput of a whole hes-gate with the
 * journal on, next to the same hes-gate with it off (journal.enabled false), in the same run.
 * Both run in child processes; rounds alternate (off, on, off, on, …) so drift on a shared
 * machine hits both; ratio = median(on)/median(off). Then the journal's bytes per decision,
 * from its file after the runs. Run alone: `node dist/bench/journal.js [--quick]`.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { SAMPLE } from '../src/simulator/index.js';
import type { JournalStats } from '../src/journal/types.js';
import { postJson, startServer, type ServerChild } from './child.js';
import { isMain, median, perSec, ratio, runAlone, type BenchOptions, type FigureReport } from './report.js';

const TARGET = 0.9;

async function load(child: ServerChild, body: string, connections: number, durationS: number): Promise<{ reqPerSec: number; total: number; bad: number }> {
  const r = await autocannon({ url: `${child.url}/v1/decisions`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, pipelining: 1, duration: durationS });
  return { reqPerSec: r.requests.total / r.duration, total: r.requests.total, bad: r.non2xx + r.errors + r.timeouts };
}

export async function benchJournal(o: BenchOptions = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const connections = 64;
  const durationS = o.quick ? 2 : 3;
  const rounds = o.quick ? 1 : 5;
  const body = JSON.stringify({ gate: 'G1', hesCode: SAMPLE.RISKLESS });
  const [off, on] = await Promise.all([startServer('gate-nojournal'), startServer('gate')]);
  try {
    for (const child of [off, on]) {
      await postJson(`${child.url}/v1/decisions`, JSON.parse(body));
      const warm = await postJson(`${child.url}/v1/decisions`, JSON.parse(body));
      if (warm.json.source !== 'cache') throw new Error(`journal bench: ${child.mode} did not answer from cache`);
      await load(child, body, connections, o.quick ? 1 : 2);
    }
    const runs: Array<{ journal: boolean; reqPerSec: number }> = [];
    let bad = 0;
    for (let i = 0; i < rounds; i++) {
      for (const child of [off, on]) {
        const r = await load(child, body, connections, durationS);
        bad += r.bad;
        runs.push({ journal: child === on, reqPerSec: r.reqPerSec });
        console.log(`  journal ${child === on ? 'on ' : 'off'} round ${i + 1}/${rounds}: ${perSec(r.reqPerSec).padStart(9)}`);
      }
    }
    const Off = median(runs.filter((r) => !r.journal).map((r) => r.reqPerSec));
    const On = median(runs.filter((r) => r.journal).map((r) => r.reqPerSec));
    const spread = (xs: number[]): number => (Math.max(...xs) - Math.min(...xs)) / median(xs);
    const stats = await on.call<JournalStats>('journal-stats');
    const bytesPer = stats.bytes / Math.max(1, stats.entries);
    const q = On / Off;
    console.log(`journal: on ${perSec(On)} vs off ${perSec(Off)} = ${ratio(q)} (target ≥ ${TARGET}×); ${stats.entries} records, ${bytesPer.toFixed(1)} bytes per decision, ${stats.dropped} dropped`);
    return {
      name: 'journal',
      rows: [
        {
          figure: 'cache-hit decisions/s with the decision journal on',
          baseline: `journal off ${perSec(Off)} (spread ${(spread(runs.filter((r) => !r.journal).map((r) => r.reqPerSec)) * 100).toFixed(0)} %)`,
          measured: `${perSec(On)} (spread ${(spread(runs.filter((r) => r.journal).map((r) => r.reqPerSec)) * 100).toFixed(0)} %)${bad > 0 ? ' (errors!)' : ''}`,
          target: `${ratio(q)} (≥ ${TARGET}×)`,
          met: bad === 0 && q >= TARGET,
        },
        {
          figure: '  journal bytes per decision (SQLite file, index included)',
          baseline: '—',
          measured: `${bytesPer.toFixed(1)} B (${stats.entries} records, ${stats.dropped} dropped)`,
          target: '—',
          met: null,
        },
      ],
      details: { connections, durationS, rounds, medianOff: Off, medianOn: On, ratio: q, runs, stats, bytesPerDecision: bytesPer },
      durationMs: performance.now() - began,
    };
  } finally {
    await Promise.all([off.close(), on.close()]);
  }
}

if (isMain(import.meta.url)) runAlone(benchJournal);
