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

function parse(text: string): { error?: { code?: string }; elapsedMs?: number } | null {
  try {
    return JSON.parse(text) as { error?: { code?: string }; elapsedMs?: number };
  } catch {
    return null; // counted by its status
  }
}

async function main(): Promise<void> {
  const [url, clientsArg, durationArg, gate, seedArg] = process.argv.slice(2);
  const clients = Number(clientsArg);
  const durationMs = Number(durationArg);
  const seed = Number(seedArg);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
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

  type Answer = { status: number; code: string | null; retryAfter: string | null; ms: number; elapsedMs: number | null };
  const post = (body: string): Promise<Answer> =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const ms = performance.now() - started;
          const parsed = parse(text);
          const ra = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, code: parsed?.error?.code ?? null, retryAfter: typeof ra === 'string' ? ra : null, ms, elapsedMs: typeof parsed?.elapsedMs === 'number' ? parsed.elapsedMs : null });
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, code: err.code ?? 'ERR', retryAfter: null, ms: performance.now() - started, elapsedMs: null }));
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

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const answers: Answer[] = [];
  const end = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < end; i++) {
        const a = await post(JSON.stringify({ gate, hesCode: code(seed, c, i) }));
        answers.push(a);
        if (a.retryAfter !== null) await new Promise((r) => setTimeout(r, Number(a.retryAfter) * 1000 * (0.5 + jitter())));
      }
    }),
  );
  loop.disable();
  agent.destroy();

  const limit = DEADLINE_MS + 5;
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const decided = answers.filter((a) => a.status === 200);
  const shed = answers.filter((a) => a.status === 503 && a.code === 'HG_OVERLOADED');
  const other: Record<string, number> = {};
  for (const a of answers) if (a.status !== 200 && !(a.status === 503 && a.code === 'HG_OVERLOADED')) other[`${a.status} ${a.code}`] = (other[`${a.status} ${a.code}`] ?? 0) + 1;
  const report: ClientReport = {
    clients,
    durationMs,
    healthBurstMaxMs,
    answers: answers.length,
    decided: decided.length,
    shed: shed.length,
    other,
    late: answers.filter((a) => a.ms > limit).length,
    lateDecided: decided.filter((a) => a.ms > limit).length,
    lateShed: shed.filter((a) => a.ms > limit).length,
    maxMs: ms[ms.length - 1] ?? 0,
    p50Ms: ms[Math.floor(ms.length / 2)] ?? 0,
    p99Ms: ms[Math.floor(ms.length * 0.99)] ?? 0,
    shedMaxMs: maxOf(shed.map((a) => a.ms)),
    elapsedOverDeadline: decided.filter((a) => (a.elapsedMs ?? 0) > DEADLINE_MS).length,
    elapsedMaxMs: maxOf(decided.map((a) => a.elapsedMs ?? 0)),
    clientLoopMaxMs: Math.max(0, loop.max / 1e6 - 10),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
