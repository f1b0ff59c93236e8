/**
 * Ministry client throughput on a local stub (server-main.ts `stub`: node:http answering the
 * check-hes-code JSON, in a child process), closed loop with as many callers as connections:
 *
 *   client      createMinistryClient(…).checkHesCode(code): pool + Basic auth + parse + event
 *   raw Pool    undici Pool, same connections, the same POST, body read as text (the floor)
 *   naive http  node:http request with agent:false: a new TCP connection per call
 *   naive fetch fetch() with a fresh undici Agent per call: a new connection per call
 *
 * Variants alternate within each round; medians over rounds. "≥ 3× naive" is checked against
 * the faster of the two naive variants.
 * Run alone: `node dist/bench/ministry-client.js [--quick]`.
 */
import { request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Agent, Dispatcher1Wrapper, Pool } from 'undici';
import { createMinistryClient } from '../src/ministry/client.js';
import { TEST_PREFIX } from '../src/simulator/index.js';
import { startServer } from './child.js';
import { isMain, median, perSec, ratio, runAlone, type BenchOptions, type FigureReport } from './report.js';

const CONNECTIONS = 8;
const CODE = 'A1B2345678';
const RAW_TARGET = 0.9;
const NAIVE_TARGET = 3;

type Variant = 'raw-pool' | 'client' | 'naive-http' | 'naive-fetch';
type Call = () => Promise<unknown>;

/** Closed loop; also this process's CPU time per call (the caller's cost, the stub being elsewhere). */
async function closedLoop(call: Call, concurrency: number, durationMs: number): Promise<{ perSec: number; errors: number; cpuUsPerCall: number }> {
  let n = 0;
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          await call();
          n++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { perSec: (n / (performance.now() - t0)) * 1000, errors, cpuUsPerCall: (cpu.user + cpu.system) / Math.max(1, n) };
}

export async function benchMinistryClient(o: BenchOptions & { durationMs?: number; rounds?: number } = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const durationMs = o.durationMs ?? (o.quick ? 1000 : 1500);
  const rounds = o.rounds ?? (o.quick ? 1 : 4);
  const stub = await startServer('stub');
  const baseUrl = `${stub.url}${TEST_PREFIX}`;
  const path = `${TEST_PREFIX}check-hes-code`;
  const body = JSON.stringify({ hes_code: CODE });
  const auth = `Basic ${Buffer.from('BENCH:bench', 'utf8').toString('base64')}`;
  const headers = { 'content-type': 'application/json', accept: 'application/json', authorization: auth };
  const client = createMinistryClient({ baseUrl, user: 'BENCH', password: 'bench', connections: CONNECTIONS });
  const pool = new Pool(stub.url, { connections: CONNECTIONS });
  const port = Number(new URL(stub.url).port);
  const calls: Record<Variant, Call> = {
    client: async () => {
      const r = await client.checkHesCode(CODE);
      if (r.kind !== 'status') throw new Error('unexpected answer');
    },
    'raw-pool': async () => {
      const res = await pool.request({ path, method: 'POST', headers, body });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    },
    'naive-http': () =>
      new Promise<void>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      }),
    'naive-fetch': async () => {
      const agent = new Agent();
      // Node's built-in fetch speaks undici 7's handler API; undici 8 agents need the wrapper.
      const dispatcher = new Dispatcher1Wrapper(agent);
      try {
        const res = await fetch(`${stub.url}${path}`, { method: 'POST', headers, body, dispatcher } as RequestInit);
        await res.text();
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      } finally {
        await agent.close();
      }
    },
  };
  const order: Variant[] = ['raw-pool', 'client', 'naive-http', 'naive-fetch'];
  const results: Record<Variant, number[]> = { 'raw-pool': [], client: [], 'naive-http': [], 'naive-fetch': [] };
  const cpuPerCall: Record<Variant, number[]> = { 'raw-pool': [], client: [], 'naive-http': [], 'naive-fetch': [] };
  let errors = 0;
  try {
    for (const v of order) await closedLoop(calls[v], CONNECTIONS, o.quick ? 300 : 800);
    for (let i = 0; i < rounds; i++) {
      for (const v of order) {
        // A naive run leaves a TIME_WAIT socket per call: keep those runs shorter.
        const r = await closedLoop(calls[v], CONNECTIONS, v.startsWith('naive') ? Math.min(durationMs, 1000) : durationMs);
        results[v].push(r.perSec);
        cpuPerCall[v].push(r.cpuUsPerCall);
        errors += r.errors;
        console.log(`  ministry client ${v.padEnd(11)} round ${i + 1}/${rounds}: ${perSec(r.perSec).padStart(9)}  caller CPU ${r.cpuUsPerCall.toFixed(1)} µs/call${r.errors > 0 ? `  errors ${r.errors}` : ''}`);
      }
    }
  } finally {
    await client.close();
    await pool.close();
    await stub.close();
  }
  const m = Object.fromEntries(order.map((v) => [v, median(results[v])])) as Record<Variant, number>;
  const naive = Math.max(m['naive-http'], m['naive-fetch']);
  const qRaw = m.client / m['raw-pool'];
  const qNaive = m.client / naive;
  const cpu = Object.fromEntries(order.map((v) => [v, median(cpuPerCall[v])])) as Record<Variant, number>;
  // Rounds are paired (raw then client, back to back): the median of per-round ratios is a
  // second, drift-resistant view of the same comparison.
  const paired = median(results.client.map((c, i) => c / results['raw-pool'][i]!));
  console.log(
    `ministry client: ${perSec(m.client)} vs raw Pool ${perSec(m['raw-pool'])} (${ratio(qRaw)}), vs naive http ${perSec(m['naive-http'])} / fetch ${perSec(m['naive-fetch'])} (${ratio(qNaive)} of the faster)\n` +
      `  median of paired per-round ratios client/raw ${ratio(paired)}; caller CPU per call: client ${cpu.client.toFixed(1)} µs, raw Pool ${cpu['raw-pool'].toFixed(1)} µs, naive http ${cpu['naive-http'].toFixed(1)} µs, naive fetch ${cpu['naive-fetch'].toFixed(1)} µs`,
  );
  return {
    name: 'ministry-client',
    rows: [
      {
        figure: `ministry client calls/s (${CONNECTIONS} conns, local stub)`,
        baseline: `raw undici Pool ${perSec(m['raw-pool'])}`,
        measured: perSec(m.client),
        target: `${ratio(qRaw)} (≥ ${RAW_TARGET}×)`,
        met: errors === 0 && qRaw >= RAW_TARGET,
      },
      {
        figure: '  same, against a new connection per call',
        baseline: `naive http ${perSec(m['naive-http'])} / fetch ${perSec(m['naive-fetch'])}`,
        measured: perSec(m.client),
        target: `${ratio(qNaive)} (≥ ${NAIVE_TARGET}×)`,
        met: errors === 0 && qNaive >= NAIVE_TARGET,
      },
      {
        figure: '  same, caller CPU per call; paired ratio',
        baseline: `raw Pool ${cpu['raw-pool'].toFixed(1)} µs`,
        measured: `${cpu.client.toFixed(1)} µs`,
        target: `paired ${ratio(paired)}`,
        met: null,
      },
    ],
    details: { connections: CONNECTIONS, durationMs, rounds, medians: m, runs: results, cpuUsPerCall: cpu, cpuRuns: cpuPerCall, pairedRatioRaw: paired, errors, ratioRaw: qRaw, ratioNaive: qNaive },
    durationMs: performance.now() - began,
  };
}

if (isMain(import.meta.url)) runAlone(benchMinistryClient);
