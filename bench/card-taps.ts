/**
 * Card-tap figures of issue 3, with a store of N bindings (1M; --quick: 100k):
 *
 *   fill a temp data dir (openCardStore + putBindings, 50k a transaction, timed)
 *     ─> fork the gate child on an EMPTY store (baseline) and on the filled one:
 *        fork → `ready` message, fork → first GET /readyz 200, RSS after ready
 *     ─> warm both paths (one HES-code decision, one card tap: cache hits from then on)
 *     ─> alternating autocannon rounds on the filled gate: HES-code path (baseline), card path
 *     ─> RSS of the filled gate after the runs
 *
 * Every binding points at one of two codes of the embedded simulator's sample set (both
 * RISKLESS), so statuses stay cached and the card path measures binding lookup + decision,
 * not ministry calls. Card ids are 8-byte hex from a counter: sequential keys make a compact
 * B-tree, so the store file is smaller than one filled with real (random) UIDs.
 * The refresher runs as configured by default (1 bulk call/s, two distinct codes): negligible.
 * Run alone: `node dist/bench/card-taps.js [--quick]`.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { SAMPLE } from '../src/simulator/index.js';
import { openCardStore, STORE_FILE } from '../src/cards/store.js';
import type { BindingInput } from '../src/cards/binding.js';
import { postJson, startServer, type ServerChild } from './child.js';
import { isMain, median, ms, perSec, ratio, runAlone, sleep, type BenchOptions, type FigureReport, type Row } from './report.js';

const CODES = [SAMPLE.RISKLESS, SAMPLE.RISKLESS_NEAR_EXPIRY] as const;
const BATCH = 50_000;
/** Distinct bound cards the card-path load cycles through (spread over the key space). */
const TAP_CARDS = 16;

export const cardIdOf = (i: number): string => i.toString(16).padStart(16, '0').toUpperCase();
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/** Fill `dataDir` with n bindings; half to each code. Returns the time taken, ms. */
export function fill(dataDir: string, n: number): { fillMs: number; count: number; dbMiB: number } {
  const t0 = performance.now();
  const store = openCardStore({ dataDir });
  let count = 0;
  try {
    for (let start = 0; start < n; start += BATCH) {
      const end = Math.min(n, start + BATCH);
      const batch: BindingInput[] = new Array(end - start);
      for (let i = start; i < end; i++) batch[i - start] = { cardId: cardIdOf(i), hesCode: CODES[i & 1]! };
      const c = store.putBindings(batch);
      if (c.created !== end - start) throw new Error(`card-taps: fill created ${c.created} of ${end - start} bindings`);
    }
    count = store.countBindings();
  } finally {
    store.close();
  }
  const fillMs = performance.now() - t0;
  // After close (the last connection checkpoints the WAL); count a WAL left behind too.
  const file = join(dataDir, STORE_FILE);
  const bytes = [file, `${file}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
  return { fillMs, count, dbMiB: mib(bytes) };
}

export interface Started {
  child: ServerChild;
  readyMsgMs: number;
  readyzMs: number;
  rssAfterReadyMiB: number;
}

/** Fork the gate child on `dataDir` (or a fresh temp store) and time it to ready and to /readyz 200. */
export async function startGateOn(dataDir: string | undefined): Promise<Started> {
  const prev = process.env['BENCH_GATE_DATA_DIR'];
  if (dataDir !== undefined) process.env['BENCH_GATE_DATA_DIR'] = dataDir;
  else delete process.env['BENCH_GATE_DATA_DIR'];
  const t0 = performance.now();
  // startServer forks synchronously, before its first await: the env is read by then.
  const pending = startServer('gate');
  if (prev === undefined) delete process.env['BENCH_GATE_DATA_DIR'];
  else process.env['BENCH_GATE_DATA_DIR'] = prev;
  const child = await pending;
  const readyMsgMs = performance.now() - t0;
  let readyzMs = Number.NaN;
  try {
    for (let tries = 0; tries < 2000; tries++) {
      const res = await fetch(`${child.url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) {
        readyzMs = performance.now() - t0;
        break;
      }
      await sleep(5);
    }
    if (Number.isNaN(readyzMs)) throw new Error('card-taps: /readyz never answered 200');
    const mem = await child.call<NodeJS.MemoryUsage>('mem');
    return { child, readyMsgMs, readyzMs, rssAfterReadyMiB: mib(mem.rss) };
  } catch (err) {
    await child.close();
    throw err;
  }
}

interface LoadRun {
  path: 'hes-code' | 'card';
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  cpuUsPerReq: number;
}

async function load(child: ServerChild, path: LoadRun['path'], bodies: readonly string[], connections: number, durationS: number): Promise<LoadRun> {
  const cpu0 = await child.cpuMs();
  // `requests` (a per-connection round-robin of bodies) is autocannon API that
  // bench/autocannon.d.ts does not declare.
  const opts: Parameters<typeof autocannon>[0] & { requests?: Array<{ method: string; path: string; headers: Record<string, string>; body: string }> } = {
    url: `${child.url}/v1/decisions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: bodies[0]!,
    connections,
    pipelining: 1,
    duration: durationS,
  };
  if (bodies.length > 1) {
    opts.requests = bodies.map((body) => ({ method: 'POST', path: '/v1/decisions', headers: { 'content-type': 'application/json' }, body }));
  }
  const r = await autocannon(opts);
  const cpu1 = await child.cpuMs();
  return {
    path,
    reqPerSec: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    cpuUsPerReq: ((cpu1 - cpu0) * 1000) / Math.max(1, r.requests.total),
  };
}

export async function benchCardTaps(o: BenchOptions & { bindings?: number; rounds?: number; durationS?: number; connections?: number } = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const n = o.bindings ?? (o.quick ? 100_000 : 1_000_000);
  const rounds = o.rounds ?? 3;
  const durationS = o.durationS ?? (o.quick ? 1 : 4);
  const connections = o.connections ?? 64;
  const dir = mkdtempSync(join(tmpdir(), 'hg-bench-card-taps-'));
  const dataDir = join(dir, 'data');
  let full: Started | undefined;
  try {
    const filled = fill(dataDir, n);
    if (filled.count !== n) throw new Error(`card-taps: the store holds ${filled.count} bindings, expected ${n}`);
    console.log(`  card-taps: filled ${n.toLocaleString('en-US')} bindings in ${(filled.fillMs / 1000).toFixed(1)} s (${filled.dbMiB} MiB ${STORE_FILE})`);

    // Baseline for start-up and RSS: the same gate on an empty store (schema already created, so
    // both skip the migration). Starts alternate, empty first; medians. The last filled-store
    // child stays up for the load runs. The filled file is warm in the OS page cache from the fill.
    const emptyDir = join(dir, 'empty');
    openCardStore({ dataDir: emptyDir }).close();
    const starts = o.quick ? 1 : 3;
    const emptyStarts: Started[] = [];
    const fullStarts: Started[] = [];
    for (let i = 0; i < starts; i++) {
      const e = await startGateOn(emptyDir);
      await e.child.close();
      emptyStarts.push(e);
      if (full !== undefined) await full.child.close();
      full = await startGateOn(dataDir);
      fullStarts.push(full);
      console.log(
        `  card-taps: start ${i + 1}/${starts}: empty store ready ${ms(e.readyMsgMs, 0)}, /readyz ${ms(e.readyzMs, 0)}, RSS ${e.rssAfterReadyMiB} MiB; ` +
          `${n.toLocaleString('en-US')} bindings ready ${ms(full.readyMsgMs, 0)}, /readyz ${ms(full.readyzMs, 0)}, RSS ${full.rssAfterReadyMiB} MiB`,
      );
    }
    const med = (xs: Started[], k: 'readyMsgMs' | 'readyzMs' | 'rssAfterReadyMiB'): number => median(xs.map((x) => x[k]));
    const emptyStarted = { readyMsgMs: med(emptyStarts, 'readyMsgMs'), readyzMs: med(emptyStarts, 'readyzMs'), rssAfterReadyMiB: med(emptyStarts, 'rssAfterReadyMiB') };
    const fullStarted = { readyMsgMs: med(fullStarts, 'readyMsgMs'), readyzMs: med(fullStarts, 'readyzMs'), rssAfterReadyMiB: med(fullStarts, 'rssAfterReadyMiB') };
    const gate = full!.child;

    // Warm both paths: the first decision asks the (embedded) simulator, later ones hit the cache.
    const hesBody = { gate: 'G1', hesCode: SAMPLE.RISKLESS };
    const tapIds = Array.from({ length: TAP_CARDS }, (_, k) => cardIdOf(Math.floor(((k + 0.5) * n) / TAP_CARDS)));
    const cardBodies = tapIds.map((card) => JSON.stringify({ gate: 'G1', card }));
    await postJson(`${gate.url}/v1/decisions`, hesBody);
    for (const b of cardBodies) await postJson(`${gate.url}/v1/decisions`, JSON.parse(b));
    const checks = [await postJson(`${gate.url}/v1/decisions`, hesBody), ...(await Promise.all(cardBodies.map((b) => postJson(`${gate.url}/v1/decisions`, JSON.parse(b)))))];
    const bad = checks.find((c) => c.status !== 200 || c.json.verdict !== 'pass' || c.json.source !== 'cache');
    if (bad !== undefined) throw new Error(`card-taps: a warm decision was not a pass from cache: ${JSON.stringify(bad)}`);

    const hes = [JSON.stringify(hesBody)];
    // Warm-up rounds (JIT, connections), not counted.
    await load(gate, 'hes-code', hes, connections, 1);
    await load(gate, 'card', cardBodies, connections, 1);

    const runs: LoadRun[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const [path, bodies] of [['hes-code', hes], ['card', cardBodies]] as const) {
        const r = await load(gate, path, bodies, connections, durationS);
        runs.push(r);
        console.log(
          `  card-taps ${r.path.padEnd(8)} round ${i + 1}/${rounds}: ${perSec(r.reqPerSec).padStart(9)}  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  ${r.cpuUsPerReq.toFixed(1)} µs CPU/req${r.non2xx + r.errors > 0 ? `  non2xx ${r.non2xx} errors ${r.errors}` : ''}`,
        );
      }
    }
    const H = median(runs.filter((r) => r.path === 'hes-code').map((r) => r.reqPerSec));
    const C = median(runs.filter((r) => r.path === 'card').map((r) => r.reqPerSec));
    const cpuH = median(runs.filter((r) => r.path === 'hes-code').map((r) => r.cpuUsPerReq));
    const cpuC = median(runs.filter((r) => r.path === 'card').map((r) => r.cpuUsPerReq));
    const errors = runs.some((r) => r.non2xx > 0 || r.errors > 0);
    const memAfter = await gate.call<NodeJS.MemoryUsage>('mem');
    const rssAfterRunsMiB = mib(memAfter.rss);
    const nLabel = n.toLocaleString('en-US');
    const errs = errors ? ' (errors!)' : '';

    const rows: Row[] = [
      { figure: `card-taps: fill ${nLabel} bindings (putBindings ×${BATCH.toLocaleString('en-US')})`, baseline: '—', measured: `${(filled.fillMs / 1000).toFixed(1)} s, ${filled.dbMiB} MiB file`, target: '—', met: null },
      { figure: `card-taps: start → ready message (${nLabel} bindings, median of ${starts})`, baseline: `empty store ${ms(emptyStarted.readyMsgMs, 0)}`, measured: ms(fullStarted.readyMsgMs, 0), target: ratio(fullStarted.readyMsgMs / emptyStarted.readyMsgMs), met: null },
      { figure: `card-taps: start → first /readyz 200`, baseline: `empty store ${ms(emptyStarted.readyzMs, 0)}`, measured: ms(fullStarted.readyzMs, 0), target: ratio(fullStarted.readyzMs / emptyStarted.readyzMs), met: null },
      { figure: `card-taps: gate RSS after ready`, baseline: `empty store ${emptyStarted.rssAfterReadyMiB} MiB`, measured: `${fullStarted.rssAfterReadyMiB} MiB`, target: '—', met: null },
      { figure: `card-taps: gate RSS after the load runs`, baseline: '—', measured: `${rssAfterRunsMiB} MiB`, target: '—', met: null },
      { figure: `card-taps: HES-code decisions/s (cache hit)`, baseline: '—', measured: `${perSec(H)}${errs}`, target: '—', met: null },
      { figure: `card-taps: card-tap decisions/s (${TAP_CARDS} cards)`, baseline: `hes-code ${perSec(H)}`, measured: `${perSec(C)}${errs}`, target: `${ratio(C / H)} of hes-code`, met: null },
      { figure: `  same, server CPU per request`, baseline: `hes-code ${cpuH.toFixed(1)} µs`, measured: `${cpuC.toFixed(1)} µs`, target: ratio(cpuC / cpuH), met: null },
    ];
    console.log(`card-taps: card ${perSec(C)} vs hes-code ${perSec(H)} = ${ratio(C / H)}, medians of ${rounds} × ${durationS} s, ${connections} connections`);
    return {
      name: 'card-taps',
      rows,
      details: {
        bindings: n,
        fillMs: Math.round(filled.fillMs),
        dbMiB: filled.dbMiB,
        start: {
          medianEmpty: emptyStarted,
          medianFilled: fullStarted,
          empty: emptyStarts.map(({ readyMsgMs, readyzMs, rssAfterReadyMiB }) => ({ readyMsgMs, readyzMs, rssAfterReadyMiB })),
          filled: fullStarts.map(({ readyMsgMs, readyzMs, rssAfterReadyMiB }) => ({ readyMsgMs, readyzMs, rssAfterReadyMiB })),
        },
        rssAfterRunsMiB,
        memAfterRuns: memAfter,
        connections,
        durationS,
        rounds,
        tapCards: TAP_CARDS,
        medianHesCode: H,
        medianCard: C,
        ratio: C / H,
        cpuUsPerReqHesCode: cpuH,
        cpuUsPerReqCard: cpuC,
        runs,
      },
      durationMs: performance.now() - began,
    };
  } finally {
    if (full !== undefined) await full.child.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) runAlone(benchCardTaps);
