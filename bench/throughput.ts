/**
 * Cache-hit decision throughput: POST /v1/decisions for one HES code already in the cache,
 * next to a bare fastify 5 route with the same request and response schemas (server-main.ts
 * `bare`). Both servers run in child processes; autocannon runs here. Baseline and subject
 * alternate (B, S, B, S, …) so drift on a shared machine hits both; ratio = median(S)/median(B).
 * Each server's spread of rounds, (max − min) / median of its rounds' requests/s, says how
 * steady it was: a per-request cost that grows with the requests served shows as a spread
 * (and a drift across rounds) where bare fastify has none.
 * Run alone: `node dist/bench/throughput.js [--quick]`.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { SAMPLE } from '../src/simulator/index.js';
import { postJson, startServer, type ServerChild } from './child.js';
import { isMain, median, perSec, ratio, runAlone, type BenchOptions, type FigureReport } from './report.js';

const TARGET = 0.9;
/** Largest spread of hes-gate's rounds, (max − min) / median. */
const MAX_SPREAD = 0.1;

const spreadOf = (xs: readonly number[]): number => (Math.max(...xs) - Math.min(...xs)) / median(xs);
const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

export interface ThroughputRun {
  server: 'bare' | 'gate';
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** Share of one core the server used during the run (1 = one core busy): is the server the bottleneck? */
  serverCpu: number;
  /** Server CPU time per request, µs: less sensitive to a noisy neighbour than requests/s. */
  cpuUsPerReq: number;
}

async function loadRun(child: ServerChild, body: string, connections: number, durationS: number): Promise<ThroughputRun> {
  const cpu0 = await child.cpuMs();
  const t0 = performance.now();
  const r = await autocannon({
    url: `${child.url}/v1/decisions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    pipelining: 1,
    duration: durationS,
  });
  const wall = performance.now() - t0;
  const cpu1 = await child.cpuMs();
  return {
    server: child.mode === 'gate' ? 'gate' : 'bare',
    reqPerSec: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    serverCpu: (cpu1 - cpu0) / wall,
    cpuUsPerReq: ((cpu1 - cpu0) * 1000) / Math.max(1, r.requests.total),
  };
}

export async function benchThroughput(o: BenchOptions & { connections?: number; durationS?: number; rounds?: number } = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const connections = o.connections ?? 64;
  const durationS = o.durationS ?? (o.quick ? 2 : 3);
  const rounds = o.rounds ?? (o.quick ? 1 : 5);
  const body = JSON.stringify({ gate: 'G1', hesCode: SAMPLE.RISKLESS });
  const [bare, gate] = await Promise.all([startServer('bare'), startServer('gate')]);
  try {
    // A warm cache: the first request asks the (embedded) simulator, every later one hits.
    const first = await postJson(`${gate.url}/v1/decisions`, JSON.parse(body));
    const second = await postJson(`${gate.url}/v1/decisions`, JSON.parse(body));
    if (second.status !== 200 || second.json.source !== 'cache' || second.json.verdict !== 'pass') {
      throw new Error(`throughput: the gate did not answer pass from cache: ${JSON.stringify([first, second])}`);
    }
    const check = await postJson(`${bare.url}/v1/decisions`, JSON.parse(body));
    if (check.status !== 200) throw new Error(`throughput: bare fastify answered ${check.status}`);

    // Warm-up (JIT, connection set-up) of both, not counted.
    await loadRun(bare, body, connections, o.quick ? 1 : 2);
    await loadRun(gate, body, connections, o.quick ? 1 : 2);

    const loadBefore = load();
    const runs: ThroughputRun[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const child of [bare, gate]) {
        const r = await loadRun(child, body, connections, durationS);
        runs.push(r);
        console.log(
          `  throughput ${r.server.padEnd(4)} round ${i + 1}/${rounds}: ${perSec(r.reqPerSec).padStart(9)}  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  server CPU ${(r.serverCpu * 100).toFixed(0)} %, ${r.cpuUsPerReq.toFixed(1)} µs/req${r.non2xx + r.errors > 0 ? `  non2xx ${r.non2xx} errors ${r.errors}` : ''}`,
        );
      }
    }
    const rps = (server: ThroughputRun['server']): number[] => runs.filter((r) => r.server === server).map((r) => r.reqPerSec);
    const B = median(rps('bare'));
    const S = median(rps('gate'));
    const spreadB = spreadOf(rps('bare'));
    const spreadS = spreadOf(rps('gate'));
    const cpuB = median(runs.filter((r) => r.server === 'bare').map((r) => r.cpuUsPerReq));
    const cpuS = median(runs.filter((r) => r.server === 'gate').map((r) => r.cpuUsPerReq));
    const bad = runs.some((r) => r.non2xx > 0 || r.errors > 0);
    const state = await gate.call<{ status: Record<string, number> }>('gate-state');
    const q = S / B;
    const loadAfter = load();
    const steady = rounds < 2 || spreadS <= MAX_SPREAD;
    console.log(`throughput: hes-gate ${perSec(S)} (spread ${pct(spreadS)}) vs bare fastify ${perSec(B)} (spread ${pct(spreadB)}) = ${ratio(q)} (target ≥ ${TARGET}×, spread ≤ ${pct(MAX_SPREAD)}), medians of ${rounds}; server CPU per request ${cpuS.toFixed(1)} µs vs ${cpuB.toFixed(1)} µs; load average ${loadBefore} → ${loadAfter}`);
    return {
      name: 'throughput',
      rows: [
        {
          figure: `cache-hit decisions/s (POST /v1/decisions), median of ${rounds} rounds (spread)`,
          baseline: `bare fastify ${perSec(B)} (${pct(spreadB)})`,
          measured: `${perSec(S)} (${pct(spreadS)})${bad ? ' (errors!)' : ''}`,
          target: `${ratio(q)} (≥ ${TARGET}×, spread ≤ ${pct(MAX_SPREAD)})`,
          met: !bad && q >= TARGET && steady,
        },
        {
          figure: '  same, server CPU per request',
          baseline: `bare fastify ${cpuB.toFixed(1)} µs`,
          measured: `${cpuS.toFixed(1)} µs`,
          target: `${ratio(cpuB / cpuS)} capacity`,
          met: null,
        },
      ],
      details: { connections, durationS, rounds, medianBare: B, medianGate: S, ratio: q, spreadBare: spreadB, spreadGate: spreadS, loadAverage: { before: loadBefore, after: loadAfter }, cpuUsPerReqBare: cpuB, cpuUsPerReqGate: cpuS, runs, gateStatusCounters: state.status },
      durationMs: performance.now() - began,
    };
  } finally {
    await Promise.all([bare.close(), gate.close()]);
  }
}

if (isMain(import.meta.url)) runAlone(benchThroughput);
