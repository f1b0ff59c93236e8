// A saturating load generator in its own process, so its work never runs on the service's event
// loop and its clock measures what a validator would: from writing a request to its whole answer.
// A shed answer's Retry-After is honoured, as a validator would.
// argv: url clients requestsPerClient; prints one JSON line {baselineMs, warmup, results}: every answer's status, code and ms.
import http from 'node:http';

const [url, clientsArg, perClientArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const perClient = Number(perClientArg);
let t0 = performance.now();
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const target = new URL('/v1/decisions', url);
const LETTERS = 'ABCDEFGHJKLMNPRSTUVYZ';

function code(client, i) {
  // Distinct, well-formed codes no cache holds: every decision goes to the (slow) ministry.
  let n = client * 1_000_000 + i;
  let s = '';
  for (let k = 0; k < 6; k++) {
    s += LETTERS[n % LETTERS.length];
    n = Math.floor(n / LETTERS.length);
  }
  return `Z${s}999`;
}

function post(body) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        const ms = performance.now() - started;
        let parsed = null;
        try {
          parsed = JSON.parse(text);
        } catch {}
        resolve({ at: started - t0, status: res.statusCode, code: parsed?.error?.code ?? null, source: parsed?.source ?? null, retryAfter: res.headers['retry-after'] ?? null, ms });
      });
    });
    req.on('error', (err) => resolve({ status: 0, code: err.code ?? 'ERR', source: null, retryAfter: null, ms: performance.now() - started }));
    req.end(body);
  });
}

// Validators keep their connections open: open every one first (not measured), then go.
function get(path) {
  return new Promise((resolve) => {
    http.get(new URL(path, url), { agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', resolve);
  });
}
await Promise.all(Array.from({ length: clients }, () => get('/healthz')));
// The machine's own cost of answering every client at once, with the cheapest route: the same
// burst a shed wave is, measured the same way (a same-run baseline for a shared machine).
let baselineMs = 0;
for (let round = 0; round < 3; round++) {
  const times = await Promise.all(Array.from({ length: clients }, async () => {
    const started = performance.now();
    await get('/healthz');
    return performance.now() - started;
  }));
  baselineMs = Math.max(baselineMs, ...times);
}
// A service that has been running: its ministry connections are open and its code is warm.
const warmup = [];
for (let i = 0; i < 20; i++) warmup.push(await post(JSON.stringify({ gate: 'G1', hesCode: code(clients + 1, i) })));

// A fixed sequence (mulberry32), so a run can be replayed.
let seed = 20261130;
function jitter() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const results = [];
t0 = performance.now();
await Promise.all(
  Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; i < perClient; i++) {
      const answer = await post(JSON.stringify({ gate: 'G1', hesCode: code(c, i) }));
      results.push(answer);
      // A validator told to back off does (it applies its offline rule meanwhile).
      // With jitter (half to one and a half times), as clients should, so they do not return as one wave.
      if (answer.retryAfter !== null) await new Promise((r) => setTimeout(r, Number(answer.retryAfter) * 1000 * (0.5 + jitter())));
    }
  }),
);
agent.destroy();
process.stdout.write(`${JSON.stringify({ baselineMs, warmup, results })}\n`);
