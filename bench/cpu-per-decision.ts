/**
 * Server CPU per decision (issue 19): what the tap path costs the machine, which the code
 * controls, where requests/s on a shared two-core machine is bound by the neighbours' noise
 * (bare fastify's own rounds spread 43–46 %). Three loads, in alternating rounds after a
 * warm-up, each against a server in a child process:
 *
 *   bare fastify (server-main.ts `bare`: hes-gate's server options, same schemas) ── baseline
 *   hes-gate, HES-code cache hit ─────────────────────────────── ≤ 1.10× bare fastify's CPU/request
 *   hes-gate, card tap (16 bound cards of N, round-robin) ─────── ≤ 1.1× the HES-code tap
 *
 * CPU is utime + stime of the server's process from /proc/<pid>/stat (child.ts `procCpuMs`),
 * so every thread counts: the journal's worker, the store's, libuv's pool, the collector's
 * helpers. It is read by this process before and after each round: the reading costs the server
 * nothing. The round order rotates (B H C, H C B, C B H, …) so a neighbour's burst lands on each
 * load in turn; figures are medians of the rounds' µs per request.
 * Run alone: `node dist/bench/cpu-per-decision.js [--quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { SAMPLE } from '../src/simulator/index.js';
import { cardIdOf, fill, startGateOn } from './card-taps.js';
import { postJson, procThreadsCpuMs, startServer, type ServerChild } from './child.js';
import { isMain, median, perSec, ratio, runAlone, type BenchOptions, type FigureReport, type Row } from './report.js';

const HES_TARGET = 1.1;
const CARD_TARGET = 1.1;
const TAP_CARDS = 16;

type Load = 'bare' | 'hes-code' | 'card';

interface Round {
  load: Load;
  requests: number;
  reqPerSec: number;
  cpuMs: number;
  cpuUsPerReq: number;
  /** Share of one core the server used over the round. */
  serverCpu: number;
  non2xx: number;
  errors: number;
  /** CPU µs per request by thread name (child.ts `procThreadsCpuMs`). */
  byThread: Record<string, number>;
}

type Request = { method: string; path: string; headers: Record<string, string>; body: string };

async function round(child: ServerChild, load: Load, bodies: readonly string[], connections: number, durationS: number): Promise<Round> {
  // `requests` (a per-connection round-robin of bodies) is autocannon API that bench/autocannon.d.ts does not declare.
  const opts: Parameters<typeof autocannon>[0] & { requests?: Request[] } = {
    url: `${child.url}/v1/decisions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: bodies[0]!,
    connections,
    pipelining: 1,
    duration: durationS,
  };
  if (bodies.length > 1) opts.requests = bodies.map((body) => ({ method: 'POST', path: '/v1/decisions', headers: { 'content-type': 'application/json' }, body }));
  const threads0 = procThreadsCpuMs(child.pid);
  const cpu0 = await child.cpuMs();
  const t0 = performance.now();
  const r = await autocannon(opts);
  const wall = performance.now() - t0;
  const cpuMs = (await child.cpuMs()) - cpu0;
  const threads1 = procThreadsCpuMs(child.pid);
  const requests = r.requests.total;
  const byThread: Record<string, number> = {};
  for (const [name, ms] of threads1) byThread[name] = ((ms - (threads0.get(name) ?? 0)) * 1000) / Math.max(1, requests);
  return { load, requests, reqPerSec: requests / r.duration, cpuMs, cpuUsPerReq: (cpuMs * 1000) / Math.max(1, requests), serverCpu: cpuMs / wall, non2xx: r.non2xx, errors: r.errors + r.timeouts, byThread };
}

export async function benchCpuPerDecision(o: BenchOptions & { bindings?: number; rounds?: number; durationS?: number; connections?: number } = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const n = o.bindings ?? (o.quick ? 100_000 : 1_000_000);
  const rounds = o.rounds ?? (o.quick ? 2 : 7);
  const durationS = o.durationS ?? (o.quick ? 1 : 3);
  const connections = o.connections ?? 64;
  const dir = mkdtempSync(join(tmpdir(), 'hg-bench-cpu-'));
  const dataDir = join(dir, 'data');
  let gate: ServerChild | undefined;
  let bare: ServerChild | undefined;
  try {
    fill(dataDir, n);
    const g = (gate = (await startGateOn(dataDir)).child);
    bare = await startServer('bare');
    const hesBody = { gate: 'G1', hesCode: SAMPLE.RISKLESS };
    const cardBodies = Array.from({ length: TAP_CARDS }, (_, k) => JSON.stringify({ gate: 'G1', card: cardIdOf(Math.floor(((k + 0.5) * n) / TAP_CARDS)) }));
    // Warm the statuses: the first decision asks the (embedded) simulator, every later one hits.
    await postJson(`${gate.url}/v1/decisions`, hesBody);
    for (const b of cardBodies) await postJson(`${gate.url}/v1/decisions`, JSON.parse(b));
    const checks = [await postJson(`${g.url}/v1/decisions`, hesBody), ...(await Promise.all(cardBodies.map((b) => postJson(`${g.url}/v1/decisions`, JSON.parse(b)))))];
    const bad = checks.find((c) => c.status !== 200 || c.json.verdict !== 'pass' || c.json.source !== 'cache');
    if (bad !== undefined) throw new Error(`cpu-per-decision: a warm decision was not a pass from cache: ${JSON.stringify(bad)}`);
    if ((await postJson(`${bare.url}/v1/decisions`, hesBody)).status !== 200) throw new Error('cpu-per-decision: bare fastify did not answer 200');

    const loads: Array<[Load, ServerChild, string[]]> = [
      ['bare', bare, [JSON.stringify(hesBody)]],
      ['hes-code', gate, [JSON.stringify(hesBody)]],
      ['card', gate, cardBodies],
    ];
    // Warm-up (JIT, connections, the store's page cache), not counted.
    for (const [load, child, bodies] of loads) await round(child, load, bodies, connections, o.quick ? 1 : 2);
    const loadBefore = loadavg();
    const runs: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      for (let k = 0; k < loads.length; k++) {
        const [load, child, bodies] = loads[(i + k) % loads.length]!;
        const r = await round(child, load, bodies, connections, durationS);
        runs.push(r);
        console.log(
          `  cpu ${load.padEnd(8)} round ${i + 1}/${rounds}: ${r.cpuUsPerReq.toFixed(1).padStart(6)} µs/req  ${perSec(r.reqPerSec).padStart(9)}  server CPU ${(r.serverCpu * 100).toFixed(0)} %${r.non2xx + r.errors > 0 ? `  non2xx ${r.non2xx} errors ${r.errors}` : ''}`,
        );
      }
    }
    const loadAfter = loadavg();
    const threadMedians = (load: Load): Record<string, number> => {
      const names = new Set(runs.filter((r) => r.load === load).flatMap((r) => Object.keys(r.byThread)));
      return Object.fromEntries([...names].map((n) => [n, median(runs.filter((r) => r.load === load).map((r) => r.byThread[n] ?? 0))]));
    };
    const byThread = { bare: threadMedians('bare'), 'hes-code': threadMedians('hes-code'), card: threadMedians('card') };
    for (const [load, t] of Object.entries(byThread)) {
      console.log(`  cpu ${load.padEnd(8)} by thread (µs/req, medians): ${Object.entries(t).filter(([, v]) => v >= 0.05).sort((a, b) => b[1] - a[1]).map(([n, v]) => `${n} ${v.toFixed(1)}`).join(', ')}`);
    }
    const of = (load: Load): number[] => runs.filter((r) => r.load === load).map((r) => r.cpuUsPerReq);
    const B = median(of('bare'));
    const H = median(of('hes-code'));
    const C = median(of('card'));
    const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
    const errors = runs.some((r) => r.non2xx > 0 || r.errors > 0);
    const errs = errors ? ' (errors!)' : '';
    const load = `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} → ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`;
    console.log(`cpu-per-decision: bare ${B.toFixed(1)} µs, HES code ${H.toFixed(1)} µs (${ratio(H / B)}), card ${C.toFixed(1)} µs (${ratio(C / H)} of HES code); medians of ${rounds} × ${durationS} s, ${connections} connections; ${load}`);
    const rows: Row[] = [
      {
        figure: `server CPU per cache-hit decision, all threads, median of ${rounds} rounds (range)`,
        baseline: `bare fastify ${B.toFixed(1)} µs (${spread(of('bare'))})`,
        measured: `${H.toFixed(1)} µs (${spread(of('hes-code'))})${errs}`,
        target: `${ratio(H / B)} (≤ ${HES_TARGET}×)`,
        met: !errors && H / B <= HES_TARGET,
      },
      {
        figure: `  same, card tap (${TAP_CARDS} of ${n.toLocaleString('en-US')} bindings)`,
        baseline: `HES-code tap ${H.toFixed(1)} µs`,
        measured: `${C.toFixed(1)} µs (${spread(of('card'))})${errs}`,
        target: `${ratio(C / H)} (≤ ${CARD_TARGET}×)`,
        met: !errors && C / H <= CARD_TARGET,
      },
    ];
    return {
      name: 'cpu-per-decision',
      rows,
      details: { bindings: n, rounds, durationS, connections, bareUs: B, hesUs: H, cardUs: C, hesOverBare: H / B, cardOverHes: C / H, byThread, loadAverage: { before: loadBefore, after: loadAfter }, runs },
      durationMs: performance.now() - began,
    };
  } finally {
    await Promise.all([gate?.close(), bare?.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) runAlone(benchCpuPerDecision);
