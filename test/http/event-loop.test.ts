/**
 * A stall of the event loop is visible to operations even when `elapsedMs` is not: a request
 * that waited in the socket while the loop was blocked is timed from when node could read it,
 * but the loop's delay shows the stall on /readyz and /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate } from './helpers.js';
import { eventLoopCheck } from '../../src/http/routes/ops.js';
import { bodyOf, rawConnect } from './sockets.js';

const STALL_MS = 300;

/** Synchronous work on the service's event loop (the test shares the service's process). */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* a sync SQLite write or a long parse would do the same */
  }
}

describe('event-loop delay', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false } });
    await t.post({ gate: 'G1', hesCode: 'A1B2345678' }); // the code is cached: the next decision never waits
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it('shows a stall on /readyz and in the metric while elapsedMs cannot see it', async () => {
    const c = await rawConnect(t.url);
    const body = JSON.stringify({ gate: 'G1', hesCode: 'A1B2345678' });
    const answered = new Promise<void>((resolve) => c.socket.on('data', () => c.received().includes('"elapsedMs"') && resolve()));
    c.write(`POST /v1/decisions HTTP/1.1\r\nHost: gate\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    // The request is on its way; the loop stops before node reads it.
    blockLoop(STALL_MS);
    await answered;
    c.destroy();
    const decision = bodyOf(c.received());
    expect(decision).toMatchObject({ verdict: 'pass', source: 'cache' });
    // What `elapsedMs` does not cover (documented): the time the bytes waited for the loop.
    expect(decision.elapsedMs).toBeLessThan(STALL_MS / 2);

    const ready = (await (await fetch(`${t.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    const detail = ready.checks['event loop']?.detail ?? '';
    const max = Number(/max (\d+(?:\.\d+)?) ms/.exec(detail)?.[1]);
    expect(max).toBeGreaterThanOrEqual(STALL_MS - 50);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const metricMax = Number(/^hes_gate_event_loop_delay_seconds\{stat="max"\} (\S+)$/m.exec(metrics)?.[1]);
    expect(metricMax).toBeGreaterThanOrEqual((STALL_MS - 50) / 1000);
  });
});

/** Issue 22: a fresh idle station's /readyz said "stalled at times … max 54 ms" while all was well. */
describe('the event loop on /readyz says act only for what to act on, with the threshold beside the figure', () => {
  const w = (p99Ms: number, maxMs: number) => ({ p50Ms: 1.2, p99Ms, maxMs, worstMs: Math.max(maxMs, 54), windowMs: 10_000 });
  it('a fresh idle station (single pauses of tens of ms: start-up, GC) is on time, no alarm word', () => {
    const { ok, detail } = eventLoopCheck(w(3.1, 54), 10, 150);
    expect(ok).toBe(true);
    expect(detail).toBe('on time: max 54 ms (act above the 150 ms gate deadline), delay p99 3.1 ms over the last 10 s; no decision shed (a decision waiting for the ministry is shed while the loop runs over 10 ms late); p50 1.2 ms; worst since start 54 ms');
    expect(detail).not.toMatch(/act:|stall|lag/);
  });
  it('a p99 over the shedding threshold with nothing shed (a busy machine, answers from the cache) is no alarm', () => {
    const { detail } = eventLoopCheck(w(30, 55), 10, 150, { sinceMs: null, total: 0 });
    expect(detail).toMatch(/^on time: max 55 ms .* delay p99 30 ms over the last 10 s; no decision shed/);
  });
  it('a pause longer than the shortest gate deadline is a stall to act on', () => {
    expect(eventLoopCheck(w(3.1, 180), 10, 150).detail).toMatch(/^act: stalled, taps behind the pause were late: max 180 ms over the last 10 s, longer than the 150 ms gate deadline; delay p99 3\.1 ms/);
  });
  it('decisions shed for the loop within the window are to act on, with when and how many', () => {
    expect(eventLoopCheck(w(61, 200), 10, 150, { sinceMs: 2_500, total: 7 }).detail).toMatch(/^act: lagging, decisions were shed \(503 HG_OVERLOADED\): the last 2\.5 s ago, 7 since start, while the loop ran over 10 ms late \(limits\.maxEventLoopDelayMs\) or was saturated \(limits\.maxEventLoopUtilization\); delay p99 61 ms, max 200 ms/);
    // Shed longer ago than the window: no longer to act on.
    expect(eventLoopCheck(w(3.1, 20), 10, 150, { sinceMs: 60_000, total: 7 }).detail).toMatch(/^on time/);
  });
});
