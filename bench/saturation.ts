/**
 * The saturation figure (issue 20): a gate is answered by its deadline or refused at once, at any
 * concurrency. A real station (`hes-gate serve`, default limits, deadline 150 ms) with the
 * ministry simulator in a process of its own answering after 100 ms; C = 100, 200, 600
 * keep-alive validators in a third process (saturation-client.ts), each asking about codes no
 * cache holds, so every admitted decision waits for the ministry. Per C:
 *
 *   late answers   decided or shed, client-side, later than deadline + 5 ms ── target 0
 *   shed share     503 HG_OVERLOADED of all answers (the client honours Retry-After with jitter)
 *   elapsedMs      decisions whose own elapsedMs was past the deadline (the station's clock)
 *   baseline       the same clients' slowest /healthz when all ask at once (same run)
 *
 * A late decision's time is split into before the station read it, the station's own elapsedMs,
 * and after it answered (saturation-client.ts): what the station controls, and what it does not.
 *
 * Run alone: `node dist/bench/saturation.js [--quick] [--clients=100,200,600] [--utilization=U]`
 * (`--utilization` sets the station's `limits.maxEventLoopUtilization`; 1 turns that shedding off,
 * for a comparison in the same run).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SIMULATOR_USER } from '../src/simulator/index.js';
import { startMinistry, startStation, type Ministry, type Station } from './processes.js';
import { isMain, runAlone, type BenchOptions, type FigureReport, type Row } from './report.js';
import type { ClientReport } from './saturation-client.js';

const DEADLINE_MS = 150;
const MINISTRY_LATENCY_MS = 100;
const CLIENT = fileURLToPath(new URL('./saturation-client.js', import.meta.url));
const CONTROL_TOKEN = 'bench-saturation-control-token';

function argValue(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
}

function runClient(url: string, clients: number, durationMs: number, seed: number): Promise<ClientReport> {
  const child = spawn(process.execPath, [CLIENT, url, String(clients), String(durationMs), 'G1', String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (t: string) => (out += t));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as ClientReport) : reject(new Error(`saturation client exited ${code}`))));
  });
}

/**
 * Admission outcomes so far, and prom-client's longest loop tick interval since the previous
 * scrape (its window restarts at each scrape), ms, from the station's /metrics.
 */
async function scrape(url: string): Promise<{ admissions: Record<string, number>; loopIntervalMaxMs: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const admissions: Record<string, number> = {};
  for (const [, outcome, value] of text.matchAll(/^hes_gate_decision_admission_total\{outcome="([a-z_]+)"\} (\S+)$/gm)) admissions[outcome!] = Number(value);
  const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return { admissions, loopIntervalMaxMs: m === null ? Number.NaN : Number(m[1]) * 1000 };
}

/**
 * The station's main thread (the event loop) from /proc/<pid>/schedstat: ns on a CPU and ns
 * runnable but waiting for one. The wait is time the station could not answer anything because
 * other processes held both cores — beyond what its code controls.
 */
function schedstat(pid: number): { runNs: number; waitNs: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { runNs: run ?? Number.NaN, waitNs: wait ?? Number.NaN };
  } catch {
    return { runNs: Number.NaN, waitNs: Number.NaN };
  }
}

export interface SaturationResult extends ClientReport {
  /** The station's admission counters over the run: admitted, shed_event_loop, shed_in_flight. */
  station: Record<string, number>;
  /** The station's event-loop delay max over the run (tick interval less prom-client's 10 ms resolution), ms. */
  stationLoopMaxMs: number;
  /** Share of the run its main thread ran, and waited runnable for a core (schedstat). */
  stationMainRunShare: number;
  stationMainWaitShare: number;
}

export async function benchSaturation(o: BenchOptions = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const levels = (argValue('clients') ?? '100,200,600').split(',').map(Number);
  const durationMs = o.quick ? 5_000 : 20_000;
  const utilizationArg = argValue('utilization');
  const utilization = utilizationArg === undefined ? undefined : Number(utilizationArg);
  const dir = mkdtempSync(join(tmpdir(), 'hg-bench-saturation-'));
  let ministry: Ministry | undefined;
  let station: Station | undefined;
  const results: SaturationResult[] = [];
  const loadBefore = loadavg();
  try {
    ministry = await startMinistry(CONTROL_TOKEN);
    await ministry.setFaults({ latencyMs: MINISTRY_LATENCY_MS });
    station = await startStation({
      dir,
      config: {
        environment: 'test',
        server: { host: '127.0.0.1', port: 0 },
        ministry: { baseUrl: ministry.baseUrl, user: SIMULATOR_USER },
        dataDir: join(dir, 'data'),
        log: { level: 'info' },
        refresher: { enabled: false },
        ...(utilization === undefined ? {} : { limits: { maxEventLoopUtilization: utilization } }),
        gates: { defaults: { deadlineMs: DEADLINE_MS, ministryUnavailable: 'deny' }, list: [{ id: 'G1' }] },
      },
    });
    for (const [k, clients] of levels.entries()) {
      const before = await scrape(station.url);
      const s0 = schedstat(station.proc.pid!);
      const t0 = performance.now();
      const r = await runClient(station.url, clients, durationMs, 101 + k);
      const wallNs = (performance.now() - t0) * 1e6;
      const s1 = schedstat(station.proc.pid!);
      const after = await scrape(station.url);
      const stationCounts = Object.fromEntries(Object.entries(after.admissions).map(([key, v]) => [key, v - (before.admissions[key] ?? 0)]));
      const res: SaturationResult = { ...r, station: stationCounts, stationLoopMaxMs: Math.max(0, after.loopIntervalMaxMs - 10), stationMainRunShare: (s1.runNs - s0.runNs) / wallNs, stationMainWaitShare: (s1.waitNs - s0.waitNs) / wallNs };
      results.push(res);
      console.log(
        `  saturation ${clients} clients: ${r.answers} answers, ${r.decided} decided, ${r.shed} shed (${((100 * r.shed) / Math.max(1, r.answers)).toFixed(1)} %), ` +
          `${r.late} later than ${DEADLINE_MS + 5} ms (${r.lateDecided} decided, ${r.lateShed} shed), p50 ${r.p50Ms.toFixed(1)} p99 ${r.p99Ms.toFixed(1)} max ${r.maxMs.toFixed(1)} ms, shed max ${r.shedMaxMs.toFixed(1)} ms; ` +
          `elapsedMs > ${DEADLINE_MS}: ${r.elapsedOverDeadline} (max ${r.elapsedMaxMs.toFixed(1)}); /healthz burst max ${r.healthBurstMaxMs.toFixed(0)} ms; client loop delay max ${r.clientLoopMaxMs.toFixed(0)} ms, its own send delay max ${r.sendDelayMaxMs.toFixed(0)} ms; ` +
          `${r.lateSplit === null ? '' : `late decisions' time: before the station read them p50 ${r.lateSplit.beforeP50.toFixed(0)} max ${r.lateSplit.beforeMax.toFixed(0)} ms, station p50 ${r.lateSplit.stationP50.toFixed(0)} max ${r.lateSplit.stationMax.toFixed(0)} ms, after it answered p50 ${r.lateSplit.afterP50.toFixed(0)} max ${r.lateSplit.afterMax.toFixed(0)} ms; `}` +
          `station: ${JSON.stringify(stationCounts)}, loop delay max ${res.stationLoopMaxMs.toFixed(0)} ms, main thread ran ${(100 * res.stationMainRunShare).toFixed(0)} % and waited for a core ${(100 * res.stationMainWaitShare).toFixed(0)} % of the run${Object.keys(r.other).length > 0 ? `; other ${JSON.stringify(r.other)}` : ''}`,
      );
    }
  } finally {
    await station?.close();
    await ministry?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAfter = loadavg();
  const rows: Row[] = results.map((r) => ({
    figure: `saturation: ${r.clients} keep-alive clients of new codes, ministry at ${MINISTRY_LATENCY_MS} ms, ${durationMs / 1000} s`,
    baseline: `/healthz burst of ${r.clients}: max ${r.healthBurstMaxMs.toFixed(0)} ms`,
    measured: `${r.late} of ${r.answers} later than ${DEADLINE_MS + 5} ms (max ${r.maxMs.toFixed(0)} ms); shed ${((100 * r.shed) / Math.max(1, r.answers)).toFixed(1)} %; elapsedMs > deadline ${r.elapsedOverDeadline}; ${r.lateSplit === null ? '' : `late decisions: before read max ${r.lateSplit.beforeMax.toFixed(0)} ms, after answer max ${r.lateSplit.afterMax.toFixed(0)} ms; `}station loop delay max ${r.stationLoopMaxMs.toFixed(0)} ms, waited for a core ${(100 * r.stationMainWaitShare).toFixed(0)} %`,
    target: '0 late',
    met: r.late === 0 && r.elapsedOverDeadline === 0 && Object.keys(r.other).length === 0,
  }));
  return { name: 'saturation', rows, details: { deadlineMs: DEADLINE_MS, ministryLatencyMs: MINISTRY_LATENCY_MS, durationMs, maxEventLoopUtilization: utilization ?? 'default', loadAverage: { before: loadBefore, after: loadAfter }, results }, durationMs: performance.now() - began };
}

if (isMain(import.meta.url)) runAlone(benchSaturation);
