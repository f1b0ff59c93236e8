/**
 * Single flight: 1,000 concurrent taps of one code the gate has never seen must cost exactly
 * one ministry call, counted at the simulator. The simulator answers after 100 ms (inside the
 * 150 ms deadline), so every tap arrives while the one call is still in flight: the taps are
 * coalesced, not served from a cache filled by an earlier answer (the `source` of each decision
 * shows which). 1,000 client connections, opened beforehand. Gate in a child process.
 * Run alone: `node dist/bench/single-flight.js [--quick]`.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { SAMPLE } from '../src/simulator/index.js';
import type { SimulatorCounts } from '../src/simulator/index.js';
import { startServer } from './child.js';
import { isMain, runAlone, type BenchOptions, type FigureReport } from './report.js';

const NEW_CODE = 'S1NGLEF1GT';

export async function benchSingleFlight(o: BenchOptions & { taps?: number } = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const taps = o.taps ?? 1000;
  const gate = await startServer('gate');
  const pool = new Pool(gate.url, { connections: taps, pipelining: 1 });
  try {
    const post = async (code: string): Promise<{ status: number; source: string; verdict: string }> => {
      const res = await pool.request({
        path: '/v1/decisions',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ gate: 'G1', hesCode: code }),
      });
      const d = (await res.body.json()) as { source: string; verdict: string };
      return { status: res.statusCode, source: d.source, verdict: d.verdict };
    };
    // Open every connection (and warm the path) with cache hits of a known code.
    await post(SAMPLE.RISKLESS);
    await Promise.all(Array.from({ length: taps }, () => post(SAMPLE.RISKLESS)));

    await gate.call('set-code', { code: NEW_CODE, status: 'RISKLESS', note: 'bench: single flight' });
    await gate.call('faults', { latencyMs: 100 });
    const before = await gate.call<SimulatorCounts>('counts');
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: taps }, () => post(NEW_CODE)));
    const burstMs = performance.now() - t0;
    const after = await gate.call<SimulatorCounts>('counts');
    const state = await gate.call<{ status: Record<string, number> }>('gate-state');
    const calls = (after.byCode[NEW_CODE] ?? 0) - (before.byCode[NEW_CODE] ?? 0);
    const bySource: Record<string, number> = {};
    for (const a of answers) {
      const k = a.status === 200 ? `${a.verdict}/${a.source}` : `HTTP ${a.status}`;
      bySource[k] = (bySource[k] ?? 0) + 1;
    }
    console.log(
      `single flight: ${taps} concurrent taps of one new code in ${burstMs.toFixed(0)} ms → ${calls} ministry call(s) at the simulator; ` +
        `answers ${JSON.stringify(bySource)}; coalesced ${state.status['coalesced']}`,
    );
    return {
      name: 'single-flight',
      rows: [
        {
          figure: `ministry calls for ${taps} concurrent taps of one new code`,
          baseline: '—',
          measured: `${calls} (coalesced ${state.status['coalesced']}, ${bySource['pass/ministry'] ?? 0} answered from the call)`,
          target: '= 1',
          met: calls === 1,
        },
      ],
      details: { taps, ministryCalls: calls, burstMs, answers: bySource, statusCounters: state.status },
      durationMs: performance.now() - began,
    };
  } finally {
    await pool.close();
    await gate.close();
  }
}

if (isMain(import.meta.url)) runAlone(benchSingleFlight);
