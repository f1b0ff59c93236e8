/**
 * The saturation figure's load, in a process of its own (its work never runs on the station's
 * loop, and the station's never on its clock): C keep-alive validators, each sending a HES code
 * no cache holds, one request at a time, for D ms. A shed answer's Retry-After is honoured with
 * jitter (half to one and a half times), as the API asks of validators. Every answer is timed
 * from writing the request to reading its whole body.
 *
 *   node dist/bench/saturation-client.js <url> <clients> <durationMs> <gate> <seed>
 *   stdout: one JSON line (ClientReport)
 *
 * Before the load: every connection is opened with a /healthz, then all clients ask /healthz at
 * once three times — the machine's own cost of answering a wave of C requests with the cheapest
 * route, the same-run baseline of the late answers. The client's own event-loop delay is
 * reported, so a slow generator is not taken for a slow station.
 *
 * Each validator keeps its connection for the whole run, as a validator does: the agent keeps
 * every idle socket (node's default keeps 256, so while clients waited out a Retry-After the
 * rest were closed and reopened — a TCP handshake, and at 600 clients an accept queue overflow
 * with its 1 s SYN retransmission, timed as a late answer). Answers are kept in typed arrays,
 * not objects, so the generator's own collections stay short.
 *
 * A late answer's time is split where it went, on the machine's one clock: a decision id is a
 * UUID v7 whose first 48 bits are the decision's wall-clock ms, and `elapsedMs` is the
 * station's time from reading the request to the decision. So
 *   before = decision time − elapsedMs − send time   (the request waited to be read)
 *   after  = read time − decision time                (the answer, written, waited to be read)
 * each to within 1 ms (the id's resolution).
 */
import http from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface ClientReport {
  clients: number;
  durationMs: number;
  /** Slowest /healthz of three waves of every client at once, ms. */
  healthBurstMaxMs: number;
  answers: number;
  decided: number;
  shed: number;
  /** Other answers: status and error code → count. */
  other: Record<string, number>;
  /** Answers (decided or shed) later than the deadline + 5 ms, client-side. */
  late: number;
  lateDecided: number;
  lateShed: number;
  maxMs: number;
  p50Ms: number;
  p99Ms: number;
  /** The largest shed answer's time, ms. */
  shedMaxMs: number;
  /** Decisions whose own `elapsedMs` was past the deadline (the station's clock). */
  elapsedOverDeadline: number;
  elapsedMaxMs: number;
  /** This process's event-loop delay max over the load, ms. */
  clientLoopMaxMs: number;
  /** Longest time this process took from creating a request to writing it (not counted in an answer's time), ms. */
  sendDelayMaxMs: number;
  /** Where late decisions' time went (ms, median and max): before the station read the request, the station's own elapsedMs, after it answered. */
  lateSplit: { n: number; beforeP50: number; beforeMax: number; stationP50: number; stationMax: number; afterP50: number; afterMax: number } | null;
}

const LETTERS = 'ABCDEFGHJKLMNPRSTUVYZ';
const DEADLINE_MS = 150;

/** A well-formed code no cache holds, distinct for every (seed, client, i). */
function code(seed: number, client: number, i: number): string {
  let n = (seed * 7919 + client) * 100_000 + i;
  let s = '';
  for (let k = 0; k < 6; k++) {
    s += LETTERS[n % LETTERS.length];
    n = Math.floor(n / LETTERS.length);
  }
  // The simulator's unknown-code pattern: the ministry answers "no such code" (still a ministry call).
  return `Z${s}${String(seed % 1000).padStart(3, '0')}`;
}

/** The largest of many numbers (0 for none): spreading 100k answers into Math.max overflows the stack. */
function maxOf(xs: readonly number[]): number {
  let max = 0;
  for (const x of xs) if (x > max) max = x;
  return max;
}

function parse(text: string): { error?: { code?: string }; elapsedMs?: number; decisionId?: string } | null {
  try {
    return JSON.parse(text) as { error?: { code?: string }; elapsedMs?: number; decisionId?: string };
  } catch {
    return null; // counted by its status
  }
}

/** A UUID v7's time: its first 48 bits, wall-clock ms. */
function uuidV7Ms(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** Growable columns of answers. */
class Answers {
  n = 0;
  ms = new Float64Array(1 << 16);
  elapsedMs = new Float64Array(1 << 16);
  /** 0 decided, 1 shed, 2 other. */
  kind = new Uint8Array(1 << 16);

  push(ms: number, elapsedMs: number, kind: number): void {
    if (this.n === this.ms.length) {
      const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.ms = grow(this.ms, (n) => new Float64Array(n));
      this.elapsedMs = grow(this.elapsedMs, (n) => new Float64Array(n));
      this.kind = grow(this.kind, (n) => new Uint8Array(n));
    }
    this.ms[this.n] = ms;
    this.elapsedMs[this.n] = elapsedMs;
    this.kind[this.n] = kind;
    this.n++;
  }
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

async function main(): Promise<void> {
  const [url, clientsArg, durationArg, gate, seedArg] = process.argv.slice(2);
  const clients = Number(clientsArg);
  const durationMs = Number(durationArg);
  const seed = Number(seedArg);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients, maxFreeSockets: clients });
  const target = new URL('/v1/decisions', url);

  const get = (path: string): Promise<number> =>
    new Promise((resolve) => {
      const started = performance.now();
      http
        .get(new URL(path, url), { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(performance.now() - started));
        })
        .on('error', () => resolve(performance.now() - started));
    });
  await Promise.all(Array.from({ length: clients }, () => get('/healthz')));
  let healthBurstMaxMs = 0;
  for (let wave = 0; wave < 3; wave++) healthBurstMaxMs = Math.max(healthBurstMaxMs, ...(await Promise.all(Array.from({ length: clients }, () => get('/healthz')))));

  type Answer = { status: number; code: string | null; retryAfter: string | null; ms: number; elapsedMs: number | null; decisionId: string | null; sentWallMs: number; sendDelayMs: number };
  // An answer is timed from when its request left this process (the request's 'finish': its bytes
  // handed to the kernel), as a validator times its own request: when 600 clients start at once,
  // this process takes ~20 ms to build and write 600 requests, a wait that is the generator's
  // own. That wait is reported (sendDelayMaxMs), not counted against the station.
  const post = (body: string): Promise<Answer> =>
    new Promise((resolve) => {
      const created = performance.now();
      let started = created;
      const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const ms = performance.now() - started;
          const parsed = parse(text);
          const ra = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            code: parsed?.error?.code ?? null,
            retryAfter: typeof ra === 'string' ? ra : null,
            ms,
            elapsedMs: typeof parsed?.elapsedMs === 'number' ? parsed.elapsedMs : null,
            decisionId: typeof parsed?.decisionId === 'string' ? parsed.decisionId : null,
            sentWallMs: performance.timeOrigin + started,
            sendDelayMs: started - created,
          });
        });
      });
      req.on('finish', () => {
        started = performance.now();
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, code: err.code ?? 'ERR', retryAfter: null, ms: performance.now() - started, elapsedMs: null, decisionId: null, sentWallMs: performance.timeOrigin + started, sendDelayMs: started - created }));
      req.end(body);
    });

  // A fixed jitter sequence (mulberry32), so a run can be replayed.
  let state = seed | 0;
  const jitter = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  const limit = DEADLINE_MS + 5;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const answers = new Answers();
  const other: Record<string, number> = {};
  const split = { before: [] as number[], station: [] as number[], after: [] as number[] };
  let sendDelayMaxMs = 0;
  const end = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < end; i++) {
        const a = await post(JSON.stringify({ gate, hesCode: code(seed, c, i) }));
        const kind = a.status === 200 ? 0 : a.status === 503 && a.code === 'HG_OVERLOADED' ? 1 : 2;
        if (kind === 2) other[`${a.status} ${a.code}`] = (other[`${a.status} ${a.code}`] ?? 0) + 1;
        answers.push(a.ms, a.elapsedMs ?? Number.NaN, kind);
        if (a.sendDelayMs > sendDelayMaxMs) sendDelayMaxMs = a.sendDelayMs;
        if (a.ms > limit && a.decisionId !== null && a.elapsedMs !== null) {
          const decidedAt = uuidV7Ms(a.decisionId);
          split.before.push(decidedAt - a.elapsedMs - a.sentWallMs);
          split.station.push(a.elapsedMs);
          split.after.push(a.sentWallMs + a.ms - decidedAt);
        }
        if (a.retryAfter !== null) await new Promise((r) => setTimeout(r, Number(a.retryAfter) * 1000 * (0.5 + jitter())));
      }
    }),
  );
  loop.disable();
  agent.destroy();

  const n = answers.n;
  const ms = Array.from(answers.ms.subarray(0, n)).sort((a, b) => a - b);
  let decided = 0;
  let shed = 0;
  let late = 0;
  let lateDecided = 0;
  let lateShed = 0;
  let shedMaxMs = 0;
  let elapsedOverDeadline = 0;
  let elapsedMaxMs = 0;
  for (let i = 0; i < n; i++) {
    const t = answers.ms[i]!;
    const k = answers.kind[i]!;
    if (t > limit) late++;
    if (k === 0) {
      decided++;
      if (t > limit) lateDecided++;
      const e = answers.elapsedMs[i]!;
      if (e > DEADLINE_MS) elapsedOverDeadline++;
      if (e > elapsedMaxMs) elapsedMaxMs = e;
    } else if (k === 1) {
      shed++;
      if (t > limit) lateShed++;
      if (t > shedMaxMs) shedMaxMs = t;
    }
  }
  const report: ClientReport = {
    clients,
    durationMs,
    healthBurstMaxMs,
    answers: n,
    decided,
    shed,
    other,
    late,
    lateDecided,
    lateShed,
    maxMs: ms[ms.length - 1] ?? 0,
    p50Ms: ms[Math.floor(ms.length / 2)] ?? 0,
    p99Ms: ms[Math.floor(ms.length * 0.99)] ?? 0,
    shedMaxMs,
    elapsedOverDeadline,
    elapsedMaxMs,
    clientLoopMaxMs: Math.max(0, loop.max / 1e6 - 10),
    sendDelayMaxMs,
    lateSplit:
      split.station.length === 0
        ? null
        : {
            n: split.station.length,
            beforeP50: percentile(split.before, 0.5),
            beforeMax: maxOf(split.before),
            stationP50: percentile(split.station, 0.5),
            stationMax: maxOf(split.station),
            afterP50: percentile(split.after, 0.5),
            afterMax: maxOf(split.after),
          },
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
