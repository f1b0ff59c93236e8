/**
 * The no-stall figure (issue 10): a real station (`hes-gate serve` in a child process, a card
 * reader and a text gate controller on pseudo-terminals) answers open-loop taps while disk work
 * runs beside it. For each kind of work, next to an idle station in the same run:
 *
 *   HTTP: 200 decisions/s (HES codes and bound cards), each timed from its intended send time;
 *         share within deadline + 5 ms, p99, max
 *   loop: the service's own event-loop delay max over the scenario (nodejs_eventloop_lag_max_seconds)
 *   serial: card taps on the reader, 10/s, timed until the controller's OPEN (or DENY) line arrives;
 *         share within deadline + 25 ms, max
 *
 * Work: a card import over the admin API, the same through `hes-gate cards import`, another
 * process holding the store's write lock for 10 s, `hes-gate store backup`, 30 s of a refresher
 * rotation at the pace a city of these bound codes needs (city/hub `leaderBudget`: 8.3 calls/s
 * for the 2M codes of two 1M-row imports), a whole rotation at the maximum pace (100 calls/s,
 * reported beside it). Rows: 1M (100k with --quick).
 * The ministry is the simulator in a process of its own (`hes-gate simulate`), as the real one
 * is another machine: its answers are made outside the station's event loop (on this 2-core
 * machine it still shares the cores).
 * Run alone: `npm run build && node dist/bench/no-stall.js [--quick] [--only=idle,rotation]
 * [--keep=DIR]`. `--only` measures some scenarios (keys: idle, api, cli, lock, backup, rotation-city, rotation);
 * the imports a later scenario needs still run, unmeasured. `--keep=DIR` keeps the station's
 * files in DIR and, when DIR already holds a store, skips the imports (a rotation-only rerun
 * takes a minute instead of three). `BENCH_CHILD_NODE_OPTIONS` adds node flags to the station,
 * e.g. `--cpu-prof --cpu-prof-dir=…` (see bench/stall-profile.ts for reading the profile).
 *
 * The loop figure is the delay: prom-client's `nodejs_eventloop_lag_max_seconds` is the longest
 * interval between two ticks of a 10 ms timer, so an idle loop reads 10 ms; the timer's
 * resolution is subtracted, as `hes_gate_event_loop_delay_seconds` does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { Pool } from 'undici';
import { SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER } from '../src/simulator/index.js';
import { decisionTimeOf } from '../src/decisions/decision-id.js';
import { leaderBudget } from '../src/city/hub/hub.js';
import { CLI, runCli, startMinistry, startStation, uploadImports, type Station } from './processes.js';
import { openLoop, newHistogram, pMs } from './open-loop.js';
import { ptyPair } from './serial-tap.js';
import { isMain, runAlone, type BenchOptions, type FigureReport, type Row } from './report.js';

const DEADLINE_MS = 150;
const ADMIN = 'bench-admin-token';
const CARD = '04A1B2C3D4E5F6';
/** Serial taps cycle through these (the reader drops a repeat of one card within 3 s). */
const SERIAL_CARDS = Array.from({ length: 64 }, (_, i) => `04A1B2C3D4E5${i.toString(16).toUpperCase().padStart(2, '0')}`);
/** prom-client's monitorEventLoopDelay resolution (its default), ms: every sample includes it. */
const LOOP_RESOLUTION_MS = 10;
const SCENARIOS = ['idle', 'api', 'cli', 'lock', 'backup', 'rotation-city', 'rotation'] as const;
/** The RISKLESS freshness (`cache.risklessTtlMs`'s default): a city's rotation pace follows from it. */
const RISKLESS_TTL_MS = 600_000;
/** The refresher's maximum pace (`refresher.callsPerSecond` ≤ 100). */
const MAX_PACE = 100;
type ScenarioKey = (typeof SCENARIOS)[number];

function argValue(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
}

/** The measured station: a card reader and a text gate controller on the PTYs in `dir`. */
function startNoStallStation(dir: string, pace: number | null, ministry: string): Promise<Station> {
  const config = {
    environment: 'test',
    server: { host: '127.0.0.1', port: 0 },
    ministry: { baseUrl: ministry, user: SIMULATOR_USER },
    dataDir: join(dir, 'data'),
    log: { level: 'info' },
    journal: { enabled: true },
    // An import request lasts as long as the store takes its 200k rows: on a busy machine longer
    // than the default 10 s (the taps are timed on their own).
    limits: { requestTimeoutMs: 300_000 },
    refresher: { enabled: pace !== null, callsPerSecond: pace ?? 1 },
    gates: {
      defaults: { deadlineMs: DEADLINE_MS, ministryUnavailable: 'last-known' },
      list: [{ id: 'N1', readers: [{ id: 'N1/card', path: join(dir, 'card'), profile: 'hex-uid' }], controller: { path: join(dir, 'gate'), profile: 'text-gate', passage: 'A' } }],
    },
  };
  return startStation({ dir, config, env: { HES_GATE_ADMIN_TOKEN: ADMIN } });
}

interface Scrape {
  /** prom-client's longest tick interval since the previous scrape, ms. */
  loopIntervalMaxMs: number;
  /** Garbage collections so far by kind (from `nodejs_gc_duration_seconds`): count, total ms, and how many took 10 ms or more. */
  gc: Record<string, { count: number; totalMs: number; over10: number }>;
}

/** One /metrics scrape: the loop figure (its window restarts here) and the collector's counts. */
async function scrape(url: string): Promise<Scrape> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  const gc: Scrape['gc'] = {};
  const of = (kind: string) => (gc[kind] ??= { count: 0, totalMs: 0, over10: 0 });
  for (const [, kind, value] of text.matchAll(/^nodejs_gc_duration_seconds_count\{kind="(\w+)"\} (\S+)$/gm)) of(kind!).count = Number(value);
  for (const [, kind, value] of text.matchAll(/^nodejs_gc_duration_seconds_sum\{kind="(\w+)"\} (\S+)$/gm)) of(kind!).totalMs = Number(value) * 1000;
  for (const [, kind, value] of text.matchAll(/^nodejs_gc_duration_seconds_bucket\{le="0\.01",kind="(\w+)"\} (\S+)$/gm)) of(kind!).over10 = of(kind!).count - Number(value);
  return { loopIntervalMaxMs: m === null ? Number.NaN : Number(m[1]) * 1000, gc };
}

/** Collections during a scenario: the difference of two scrapes, e.g. "minor 12 (2 ≥ 10 ms, 31 ms)". */
function gcDuring(before: Scrape, after: Scrape): string {
  return Object.entries(after.gc)
    .map(([kind, a]) => {
      const b = before.gc[kind] ?? { count: 0, totalMs: 0, over10: 0 };
      return a.count === b.count ? '' : `${kind} ${a.count - b.count} (${a.over10 - b.over10} ≥ 10 ms, ${(a.totalMs - b.totalMs).toFixed(0)} ms)`;
    })
    .filter((x) => x !== '')
    .join(', ');
}

/** Every 50 ms, the share of it the process's main thread ran or waited to run (/proc/<pid>/schedstat). */
function busySampler(pid: number): { stop(): number[] } {
  const read = (): number => {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      return (run ?? 0) + (wait ?? 0);
    } catch {
      return Number.NaN;
    }
  };
  const shares: number[] = [];
  let lastNs = read();
  let lastAt = performance.now();
  const timer = setInterval(() => {
    const ns = read();
    const at = performance.now();
    if (Number.isFinite(ns) && Number.isFinite(lastNs)) shares.push((ns - lastNs) / 1e6 / (at - lastAt));
    lastNs = ns;
    lastAt = at;
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return shares;
    },
  };
}

/** Card taps on the reader's PTY, each timed until the controller's OPEN line arrives. */
class SerialTaps {
  readonly latencies: number[] = [];
  private waiting: { at: number; resolve: () => void } | null = null;
  private buffered = '';
  private next = 0;
  private constructor(private readonly reader: SerialPort, private readonly gate: SerialPort) {
    gate.on('data', (d: Buffer) => {
      this.buffered += d.toString('latin1');
      let i: number;
      while ((i = this.buffered.indexOf('\r\n')) >= 0) {
        const line = this.buffered.slice(0, i);
        this.buffered = this.buffered.slice(i + 2);
        if ((line.startsWith('OPEN') || line.startsWith('DENY')) && this.waiting !== null) {
          this.latencies.push(performance.now() - this.waiting.at);
          const w = this.waiting;
          this.waiting = null;
          w.resolve();
        }
      }
    });
  }
  static async open(readerPeer: string, gatePeer: string): Promise<SerialTaps> {
    const openPort = (path: string): Promise<SerialPort> =>
      new Promise((resolve, reject) => {
        const p = new SerialPort({ path, baudRate: 19200, autoOpen: false });
        p.open((err) => (err ? reject(err) : resolve(p)));
      });
    return new SerialTaps(await openPort(readerPeer), await openPort(gatePeer));
  }
  /** Taps every `everyMs` until `until()` says stop; one tap in flight at a time (a gate). */
  async run(everyMs: number, until: () => boolean): Promise<void> {
    while (!until()) {
      const at = performance.now();
      const answered = new Promise<void>((resolve) => (this.waiting = { at, resolve }));
      this.reader.write(`${SERIAL_CARDS[this.next++ % SERIAL_CARDS.length]}\r\n`);
      await Promise.race([answered, new Promise((r) => setTimeout(r, 2000))]);
      if (this.waiting !== null) {
        this.latencies.push(2000);
        this.waiting = null;
      }
      const rest = everyMs - (performance.now() - at);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    }
  }
  reset(): void {
    this.latencies.length = 0;
  }
  async close(): Promise<void> {
    await Promise.all([this.reader, this.gate].map((p) => new Promise((r) => p.close(() => r(undefined)))));
  }
}

interface ScenarioResult {
  key: ScenarioKey;
  name: string;
  workMs: number;
  httpSent: number;
  httpOnTime: number;
  httpP99Ms: number;
  httpMaxMs: number;
  non2xx: number;
  /** Sends this generator made over 1 ms after their intended time (its own loop was busy), and the worst lag. */
  httpLateSends: number;
  httpMaxSendLagMs: number;
  /** The largest `elapsedMs` the station reported for a tap: its own time, arrival to answer. */
  stationElapsedMaxMs: number;
  /**
   * Of the late HTTP taps, the longest stretch from the intended send to the station's decision,
   * and from the decision to the answer read here (wall clock, ms: the decision's time is in its
   * v7 id). Says on which side of the station a late tap lost its time.
   */
  lateBeforeDecisionMaxMs: number;
  lateAfterDecisionMaxMs: number;
  /** Event-loop delay max: the longest tick interval less the timer's resolution. */
  loopMaxMs: number;
  /**
   * The station's main thread, on a CPU or runnable and waiting for one, as a share of each
   * 50 ms (from /proc/<pid>/schedstat, read by this process: nothing asked of the station): how
   * busy its event loop was, the figure admission sheds on above limits.maxEventLoopUtilization
   * (0.6). Max over the windows, and the share of windows above 0.6.
   */
  busyMax: number;
  busyOver60: number;
  /** The longest tick interval as prom-client exports it. */
  loopIntervalMaxMs: number;
  /** Garbage collections in the station during the scenario, by kind. */
  gc: string;
  serialTaps: number;
  serialOnTime: number;
  serialMaxMs: number;
  note: string;
}

async function scenario(station: Station, taps: SerialTaps, key: ScenarioKey, name: string, work: () => Promise<string>, minMs: number): Promise<ScenarioResult> {
  const pool = new Pool(station.url, { connections: 16, pipelining: 1 });
  const hist = newHistogram();
  let onTime = 0;
  let sent = 0;
  let non2xx = 0;
  let lateSends = 0;
  let maxSendLag = 0;
  let elapsedMax = 0;
  let lateBefore = 0;
  let lateAfter = 0;
  taps.reset();
  const before = await scrape(station.url); // restarts the service's loop-delay window
  let workDone = false;
  let note = '';
  const t0 = performance.now();
  const working = work().then(
    (n) => ((workDone = true), (note = n)),
    (err: Error) => ((workDone = true), (note = `work failed: ${err.message.slice(0, 120)}`)),
  );
  const enough = (): boolean => workDone && performance.now() - t0 >= minMs;
  const busy = busySampler(station.proc.pid!);
  const serial = taps.run(100, enough);
  while (!enough()) {
    const r = await openLoop({
      url: station.url,
      path: '/v1/decisions',
      rate: 200,
      durationMs: 1000,
      connections: 16,
      pool,
      body: (i) => JSON.stringify(i % 2 === 0 ? { gate: 'N1', hesCode: SAMPLE.RISKLESS } : { gate: 'N1', card: CARD }),
      onAnswer: (_s, text, ms) => {
        const readAt = Date.now();
        const answer = JSON.parse(text) as { elapsedMs?: unknown; decisionId?: unknown };
        if (typeof answer.elapsedMs === 'number' && answer.elapsedMs > elapsedMax) elapsedMax = answer.elapsedMs;
        if (ms <= DEADLINE_MS + 5) {
          onTime++;
          return;
        }
        const decidedAt = typeof answer.decisionId === 'string' ? decisionTimeOf(answer.decisionId) : undefined;
        if (decidedAt === undefined) return;
        lateBefore = Math.max(lateBefore, decidedAt - (readAt - ms));
        lateAfter = Math.max(lateAfter, readAt - decidedAt);
      },
    });
    hist.add(r.histogram);
    lateSends += r.lateSends;
    maxSendLag = Math.max(maxSendLag, r.maxSendLagMs);
    sent += r.sent;
    non2xx += r.non2xx + r.errors;
  }
  await working;
  await serial;
  const busyShares = busy.stop();
  const workMs = performance.now() - t0;
  const after = await scrape(station.url);
  const loop = after.loopIntervalMaxMs;
  await pool.close();
  const s = taps.latencies;
  return {
    key,
    name,
    workMs,
    httpSent: sent,
    httpOnTime: onTime,
    httpP99Ms: pMs(hist, 99),
    httpMaxMs: hist.maxValue / 1000,
    non2xx,
    httpLateSends: lateSends,
    httpMaxSendLagMs: maxSendLag,
    stationElapsedMaxMs: elapsedMax,
    lateBeforeDecisionMaxMs: lateBefore,
    lateAfterDecisionMaxMs: lateAfter,
    loopMaxMs: Math.max(0, loop - LOOP_RESOLUTION_MS),
    busyMax: Math.max(0, ...busyShares),
    busyOver60: busyShares.filter((b) => b > 0.6).length / Math.max(1, busyShares.length),
    loopIntervalMaxMs: loop,
    gc: gcDuring(before, after),
    serialTaps: s.length,
    serialOnTime: s.filter((ms) => ms <= DEADLINE_MS + 25).length,
    serialMaxMs: Math.max(0, ...s),
    note,
  };
}

function writeRows(dir: string, rows: number, format: 'csv' | 'ndjson', offset: number): Promise<string> {
  const file = join(dir, `cards-${offset}.${format}`);
  const out = createWriteStream(file);
  return new Promise((resolve, reject) => {
    out.on('error', reject);
    let i = 0;
    const code = (n: number): string => `Q${String(n % 1_000_000_000).padStart(9, '0')}`;
    const write = (): void => {
      let ok = true;
      if (i === 0 && format === 'csv') out.write('card_id,hes_code,profile\n');
      while (i < rows && ok) {
        const id = (offset + i).toString(16).toUpperCase().padStart(14, '0');
        const line = format === 'csv' ? `${id},${code(offset + i)},\n` : `${JSON.stringify({ cardId: id, hesCode: code(offset + i) })}\n`;
        ok = out.write(line);
        i++;
      }
      if (i < rows) out.once('drain', write);
      else out.end(() => resolve(file));
    };
    write();
  });
}

export async function benchNoStall(o: BenchOptions = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const rows = o.quick ? 100_000 : 1_000_000;
  const onlyArg = argValue('only');
  const only = new Set<ScenarioKey>(onlyArg === undefined ? SCENARIOS : (onlyArg.split(',') as ScenarioKey[]));
  for (const k of only) if (!SCENARIOS.includes(k)) throw new Error(`no-stall: unknown scenario ${k}; known: ${SCENARIOS.join(', ')}`);
  const keep = argValue('keep');
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'hg-bench-nostall-'));
  mkdirSync(dir, { recursive: true });
  const storeFile = join(dir, 'data', 'hes-gate.db');
  const prepared = keep !== undefined && existsSync(storeFile);
  const results: ScenarioResult[] = [];
  // The pace a city's leader takes for this many bound codes (city/hub leaderBudget: a whole
  // rotation within 80 % of the RISKLESS freshness, so no bound code's status goes stale): the
  // two imports bind 2 × rows distinct codes. 8.3 calls/s for 2M codes.
  const cityPace = leaderBudget(2 * rows, RISKLESS_TTL_MS, 0.001, MAX_PACE);
  const cityWindowMs = o.quick ? 10_000 : 30_000;
  const admin = { authorization: `Bearer ${ADMIN}` };
  // Whatever was started is stopped in `finally`, also when a later start fails (a station that
  // refuses its configuration must not leave the simulator and socat running).
  const socats: ChildProcess[] = [];
  let ministry: Awaited<ReturnType<typeof startMinistry>> | undefined;
  let station: Station | undefined;
  let taps: SerialTaps | undefined;
  try {
    socats.push(await ptyPair(join(dir, 'card'), join(dir, 'card-peer')), await ptyPair(join(dir, 'gate'), join(dir, 'gate-peer')));
    ministry = await startMinistry();
    station = await startNoStallStation(dir, null, ministry.baseUrl);
    const firstStation = station;
    taps = await SerialTaps.open(join(dir, 'card-peer'), join(dir, 'gate-peer'));
    const openTaps = taps;
    /** Measure a scenario, or (not asked for) only do its work when a later one needs its result. */
    const measure = async (key: ScenarioKey, name: string, work: () => Promise<string>, minMs: number, needed = false): Promise<void> => {
      if (only.has(key)) results.push(await scenario(station!, openTaps, key, name, work, minMs));
      else if (needed) await work();
    };
    for (const card of [CARD, ...SERIAL_CARDS]) {
      const put = await fetch(`${station.url}/v1/cards/${card}`, { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode: SAMPLE.RISKLESS }) });
      if (put.status >= 300) throw new Error(`no-stall: binding a test card failed: ${put.status}`);
    }
    for (let i = 0; i < 3; i++) await fetch(`${station.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gate: 'N1', hesCode: SAMPLE.RISKLESS }) });
    const chunk = Math.min(rows, 200_000);
    const ndjson: string[] = [];
    for (let off = 1; off <= rows; off += chunk) ndjson.push(await writeRows(dir, Math.min(chunk, rows - off + 1), 'ndjson', off));
    const csv = await writeRows(dir, rows, 'csv', 10_000_000);
    const env = { HES_GATE_CONFIG: join(dir, 'station.json'), HES_GATE_ADMIN_TOKEN: ADMIN, HES_GATE_MINISTRY_PASSWORD: SIMULATOR_PASSWORD };
    // The rotation's ~2M bound codes come from the two imports.
    const needImports = (only.has('rotation') || only.has('rotation-city')) && !prepared;

    await measure('idle', 'idle station (baseline)', async () => 'idle', 5000);
    await measure(
      'api',
      `import ${rows.toLocaleString('en')} rows over the admin API`,
      async () => {
        await uploadImports(`${firstStation.url}/v1/cards/import`, ndjson, ADMIN);
        return `${ndjson.length} requests`;
      },
      2000,
      needImports,
    );
    await measure('cli', `import ${rows.toLocaleString('en')} rows with hes-gate cards import`, () => runCli(['cards', 'import', csv], env), 2000, needImports);
    await measure(
      'lock',
      'another process holds the write lock 10 s',
      async () => {
        const script = `const D=require('better-sqlite3');const db=new D(process.argv[1]);db.pragma('busy_timeout=5000');db.exec('BEGIN IMMEDIATE');setTimeout(()=>{db.exec('COMMIT');db.close()},10000)`;
        await new Promise<void>((resolve, reject) => {
          const p = spawn(process.execPath, ['-e', script, storeFile], { stdio: 'inherit', cwd: fileURLToPath(new URL('../..', import.meta.url)) });
          p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited ${code}`))));
        });
        return 'held 10 s';
      },
      2000,
    );
    const hasBackup = spawnSync(process.execPath, [CLI, 'store', '--help'], { encoding: 'utf8' }).status === 0;
    if (hasBackup) await measure('backup', 'hes-gate store backup', () => runCli(['store', 'backup', join(dir, 'backup.db')], env), 2000);
    if (only.has('rotation-city')) {
      await station.close();
      const paced = await startNoStallStation(dir, cityPace, ministry.baseUrl);
      station = paced;
      await measure(
        'rotation-city',
        `a refresher rotation at the pace a city of ${(2 * rows).toLocaleString('en')} bound codes needs (${cityPace.toFixed(2)} calls/s), ${cityWindowMs / 1000} s of it`,
        async () => {
          await new Promise((r) => setTimeout(r, cityWindowMs));
          const calls = paced.logs.filter((l) => String(l['msg']).includes('rotation complete')).length;
          return calls > 0 ? 'a rotation completed within the window' : 'rotation running';
        },
        cityWindowMs,
      );
    }
    if (only.has('rotation')) {
      await station.close();
      const refreshing = await startNoStallStation(dir, MAX_PACE, ministry.baseUrl);
      station = refreshing;
      const rotated = (): boolean => refreshing.logs.some((l) => String(l['msg']).includes('rotation complete'));
      await measure(
        'rotation',
        `a refresher rotation over every bound code at the maximum pace (${MAX_PACE} calls/s)`,
        async () => {
          while (!rotated()) await new Promise((r) => setTimeout(r, 200));
          return 'rotation complete';
        },
        2000,
      );
    }
  } finally {
    await taps?.close();
    await station?.close();
    await ministry?.close();
    for (const s of socats) s.kill();
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
  const out: Row[] = [];
  for (const r of results) {
    const share = r.httpOnTime / Math.max(1, r.httpSent);
    const serialShare = r.serialOnTime / Math.max(1, r.serialTaps);
    console.log(
      `  ${r.name}: ${(r.workMs / 1000).toFixed(1)} s (${r.note}); HTTP ${r.httpOnTime}/${r.httpSent} within ${DEADLINE_MS + 5} ms, p99 ${r.httpP99Ms.toFixed(1)} max ${r.httpMaxMs.toFixed(1)} ms, non-2xx ${r.non2xx} (station's elapsedMs max ${r.stationElapsedMaxMs.toFixed(1)} ms; generator sent ${r.httpLateSends} late, by up to ${r.httpMaxSendLagMs.toFixed(1)} ms${r.httpOnTime < r.httpSent ? `; late taps: up to ${r.lateBeforeDecisionMaxMs.toFixed(0)} ms from intended send to decision, ${r.lateAfterDecisionMaxMs.toFixed(0)} ms from decision to answer read` : ''}); loop delay max ${r.loopMaxMs.toFixed(1)} ms (tick interval max ${r.loopIntervalMaxMs.toFixed(1)} ms; GC ${r.gc || 'none'}); main thread busy max ${(100 * r.busyMax).toFixed(0)} % of 50 ms, over 60 % in ${(100 * r.busyOver60).toFixed(1)} % of windows; serial ${r.serialOnTime}/${r.serialTaps} within ${DEADLINE_MS + 25} ms, max ${r.serialMaxMs.toFixed(1)} ms`,
    );
    out.push({
      figure: `taps during: ${r.name}`,
      baseline: r === results[0] ? '—' : 'idle station (first row)',
      measured: `HTTP ${(share * 100).toFixed(2)} % ≤ ${DEADLINE_MS + 5} ms (max ${r.httpMaxMs.toFixed(0)} ms); loop delay max ${r.loopMaxMs.toFixed(0)} ms; serial ${(serialShare * 100).toFixed(1)} % ≤ ${DEADLINE_MS + 25} ms (max ${r.serialMaxMs.toFixed(0)} ms)`,
      // The loop-delay target holds at the paces a station runs at; the maximum pace is reported beside it.
      target: r.key === 'rotation' ? '100 %; — (maximum pace); 100 %' : '100 %; ≤ 20 ms; 100 %',
      met: share === 1 && (r.key === 'rotation' || r.loopMaxMs <= 20) && serialShare === 1 && r.non2xx === 0,
    });
  }
  return { name: 'no-stall', rows: out, details: { rows, results }, durationMs: performance.now() - began };
}

if (isMain(import.meta.url)) runAlone(benchNoStall);
