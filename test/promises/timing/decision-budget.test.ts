/**
 * Promise: the gate gets its answer by its deadline as the gate measures it — counted from when
 * the request arrived, not from when the service got round to it, and with a margin kept for the
 * work after the status wait (deciding, serialising, sending). So these tests time each decision
 * on the client too, not only by the `elapsedMs` the server reports about itself.
 *
 * Timing-sensitive: runs in the `timing` vitest project, after the rest of the suite.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE } from '../../../src/simulator/index.js';
import { startTestGate } from '../../http/helpers.js';

const DEADLINE_MS = 100;
/** Lateness allowed on the server's own figure (timer and event-loop delay), as in test/resilience. */
const SERVER_TOLERANCE_MS = 5;
/**
 * Lateness allowed at the client for each tap: the server's tolerance plus loopback HTTP both
 * ways on a shared test machine. It cannot hide the mistakes these tests are for: a budget
 * counted from when the handler ran keeps the slow client below waiting 165 ms at least (a timer
 * never fires early), and a margin of 0 shows in the fastest answer (see the first test).
 */
const CLIENT_TOLERANCE_MS = 25;
/** How long the slow client takes between its headers and the rest of its body. */
const BODY_DELAY_MS = 80;

type Gate = Awaited<ReturnType<typeof startTestGate>>;
let t: Gate;
let n = 0;
/** A code the gate has never seen: nothing cached, so every tap waits on the hung ministry. */
const freshCode = () => `T${String(++n).padStart(9, '0')}`;

beforeAll(async () => {
  t = await startTestGate({
    refresher: { enabled: false },
    // Hung calls end under their own (short) timeout, so closing the gate does not wait long;
    // their failures must not open the circuit, or taps would be answered at once instead of
    // waiting on the ministry until their deadline.
    ministry: { headersTimeoutMs: 300 },
    resilience: { consecutiveFailures: 1000, minimumCalls: 1000, maxInFlight: 1000 },
    gates: { defaults: { deadlineMs: DEADLINE_MS, ministryUnavailable: 'deny' } },
  });
  // Hang the ministry for every tap below, and warm the path the tests time (JIT, the keep-alive
  // connection, the budget's timer) with a few unmeasured taps of each kind.
  await t.post({ gate: 'G1', hesCode: SAMPLE.RISKLESS });
  t.gate.simulator!.setFaults({ hang: true });
  for (let i = 0; i < 5; i++) {
    await t.post({ gate: 'G1', hesCode: freshCode() });
    await slowPost(JSON.stringify({ gate: 'G1', hesCode: freshCode() }), 5);
  }
});

afterAll(async () => {
  await t.gate.close();
});

/** POST a decision whose body arrives `delayMs` after its headers; timed from the first byte sent. */
function slowPost(body: string, delayMs: number): Promise<{ status: number; body: any; ms: number }> {
  const url = new URL('/v1/decisions', t.url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    // A slow gate link, not a wait for something: the rest of the body comes later.
    setTimeout(() => req.end(body.slice(half)), delayMs);
  });
}

describe('the decision budget, measured by the client', () => {
  it('answers every tap by the deadline while the ministry hangs, with the margin left for the reply', async () => {
    const clientMs: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await t.post({ gate: 'G1', hesCode: freshCode() });
      expect(r.body).toMatchObject({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
      expect(r.body.elapsedMs, 'waited on the ministry').toBeGreaterThanOrEqual(DEADLINE_MS / 2);
      expect(r.body.elapsedMs).toBeLessThanOrEqual(DEADLINE_MS + SERVER_TOLERANCE_MS);
      expect(r.ms, 'measured by the client').toBeLessThanOrEqual(DEADLINE_MS + CLIENT_TOLERANCE_MS);
      clientMs.push(r.ms);
    }
    // The status wait ends 15 ms before the deadline, so the reply is on its way in time. Without
    // that margin no answer could reach the client before the deadline; load only adds time, so
    // the fastest of eight answers shows it.
    expect(Math.min(...clientMs), 'fastest answer at the client').toBeLessThanOrEqual(DEADLINE_MS - 5);
  });

  it('counts a slowly arriving body against the deadline, from the request’s arrival', async () => {
    // Were the budget counted from when the handler ran, the client would wait the body's 80 ms
    // plus the whole 85 ms status wait: 165 ms at least.
    const r = await slowPost(JSON.stringify({ gate: 'G1', hesCode: freshCode() }), BODY_DELAY_MS);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
    expect(r.ms, 'measured by the client').toBeGreaterThanOrEqual(BODY_DELAY_MS);
    expect(r.ms, 'measured by the client').toBeLessThanOrEqual(DEADLINE_MS + CLIENT_TOLERANCE_MS);
    // The server's own figure counts from arrival too: it includes the body's delay.
    expect(r.body.elapsedMs).toBeGreaterThanOrEqual(BODY_DELAY_MS);
    expect(r.body.elapsedMs).toBeLessThanOrEqual(DEADLINE_MS + SERVER_TOLERANCE_MS);
  });
});
