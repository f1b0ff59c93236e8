import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMinistryClient } from '../../src/ministry/client.js';
import type { MinistryClient } from '../../src/ministry/types.js';
import { SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator, type SimulatorRequestEvent } from '../../src/simulator/index.js';
import type { StatusSink } from '../../src/status/types.js';
import type { HesGateError } from '../../src/errors.js';
import type { MinistryLookup } from '../../src/types.js';
import { createRefresher, type BackoffEvent, type Refresher, type RefresherOptions } from '../../src/status/refresher.js';
import type { Timers } from '../../src/types.js';
import { openCardStore, type CardStore } from '../../src/cards/store.js';
import { cardIdFor, codeFor, manualClock, tempDir } from '../cards/helpers.js';

/** The sink: what the status cache would have been told, last answer per code. */
function recorder(): StatusSink & { seen: Map<string, { result: MinistryLookup | HesGateError; at: number }>; ingested: number } {
  const seen = new Map<string, { result: MinistryLookup | HesGateError; at: number }>();
  return {
    seen,
    ingested: 0,
    ingestMany(results, at) {
      for (const [code, result] of results) {
        this.ingested++;
        seen.set(code, { result, at });
      }
    },
  };
}

/** A timer that only fires when the test says so; `next()` resolves when something is scheduled. */
function manualTimer(): Timers & { pending: { fn: () => void; ms: number } | undefined; next(): Promise<{ fn: () => void; ms: number }> } {
  let waiter: ((p: { fn: () => void; ms: number }) => void) | undefined;
  const t = {
    pending: undefined as { fn: () => void; ms: number } | undefined,
    setTimeout(fn: () => void, ms: number) {
      const p = { fn, ms };
      t.pending = p;
      waiter?.(p);
      waiter = undefined;
      return p;
    },
    clearTimeout(handle: unknown) {
      if (t.pending === handle) t.pending = undefined;
    },
    next(): Promise<{ fn: () => void; ms: number }> {
      if (t.pending !== undefined) return Promise.resolve(t.pending);
      return new Promise((resolve) => (waiter = resolve));
    },
  };
  return t;
}

let sim: Simulator;
let client: MinistryClient;
let store: CardStore;
let refresher: Refresher | undefined;

beforeEach(async () => {
  sim = await startSimulator();
  client = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
  store = openCardStore({ dataDir: tempDir() });
});

afterEach(async () => {
  await refresher?.stop();
  refresher = undefined;
  await client.close();
  await sim.close();
  store.close();
});

function bind(codes: readonly string[]): void {
  store.putBindings(codes.map((hesCode, i) => ({ cardId: cardIdFor(i), hesCode, profile: 'standard' })));
}

function make(extra: Partial<RefresherOptions> = {}): { r: Refresher; sink: ReturnType<typeof recorder> } {
  const sink = recorder();
  refresher = createRefresher({ store, ministry: client, sink, minRotationMs: 0, ...extra });
  return { r: refresher, sink };
}

const bulkCalls = (): number => sim.counts().byPath['check-hes-codes'];

describe('refresher against the simulator', () => {
  it('refreshes N bound codes with ceil(N/500) bulk calls per rotation', async () => {
    for (const n of [1234, 1000, 1]) {
      sim.resetCounts();
      store.close();
      store = openCardStore({ dataDir: tempDir() });
      // Two cards share each code: the rotation is over distinct codes.
      bind([...Array.from({ length: n }, (_, i) => codeFor(i)), ...Array.from({ length: n }, (_, i) => codeFor(i))]);
      expect(store.countCodes()).toBe(n);
      const { r, sink } = make();
      let rotations = 0;
      r.on('rotation', () => rotations++);
      while (rotations === 0) await r.runOnce();
      expect(bulkCalls(), `n=${n}`).toBe(Math.ceil(store.countCodes() / 500));
      expect(sink.seen.size).toBe(store.countCodes());
      // Codes not in the simulator's set are "not found": a definitive answer for the cache.
      expect(sink.seen.get(codeFor(0))?.result).toEqual({ kind: 'not-found' });
      // A second rotation costs the same.
      while (rotations === 1) await r.runOnce();
      expect(bulkCalls()).toBe(2 * Math.ceil(store.countCodes() / 500));
      const s = r.stats();
      expect(s.rotationsCompleted).toBe(2);
      expect(s.callsByOutcome).toEqual({ ok: 2 * Math.ceil(store.countCodes() / 500) });
      expect(s.codesRefreshed).toBe(2 * store.countCodes());
      expect(s.lastRotationCompletedAt).toBeTypeOf('number');
      await r.stop();
    }
  });

  it('sees a code turned RISKY at the ministry after the next refresh', async () => {
    bind([SAMPLE.RISKLESS, SAMPLE.RISKY]);
    const clock = manualClock();
    const { r, sink } = make({ clock: clock.now });
    await r.runOnce();
    expect(sink.seen.get(SAMPLE.RISKLESS)?.result).toMatchObject({ kind: 'status', status: 'RISKLESS' });
    expect(sink.seen.get(SAMPLE.RISKLESS)?.at).toBe(clock.now());

    sim.setCode(SAMPLE.RISKLESS, { status: 'RISKY', expirationDate: '2070-12-31T20:59:59Z', note: 'turned risky' });
    clock.advance(5000);
    await r.runOnce();
    expect(sink.seen.get(SAMPLE.RISKLESS)).toMatchObject({ result: { kind: 'status', status: 'RISKY' }, at: clock.now() });
  });

  it('asks about recently tapped codes first, once each', async () => {
    const codes = Array.from({ length: 1200 }, (_, i) => codeFor(i));
    bind(codes);
    const requests: SimulatorRequestEvent[] = [];
    sim.on('request', (e: SimulatorRequestEvent) => requests.push(e));
    const { r } = make();
    // The last code of the rotation, tapped twice, and a code that is not bound at all.
    const last = [...codes].sort().at(-1)!;
    r.noteTap(last);
    r.noteTap(SAMPLE.RISKY);
    r.noteTap(last);
    r.noteTap('not-a-code');
    expect(r.stats().recentQueued).toBe(2);
    const report = await r.runOnce();
    expect(report).toMatchObject({ codes: 500, recent: 2, calls: 1, outcome: 'ok' });
    expect(requests[0]?.codes.slice(0, 2)).toEqual([last, SAMPLE.RISKY]);
    expect(new Set(requests[0]?.codes).size).toBe(500);
    expect(r.stats().recentQueued).toBe(0);
  });

  it('backs off exponentially while the ministry fails, then resumes its pace', async () => {
    bind(Array.from({ length: 10 }, (_, i) => codeFor(i)));
    sim.setFaults({ status: 503 });
    const clock = manualClock();
    const timer = manualTimer();
    const { r } = make({ clock: clock.now, timer, random: () => 0.5, budgetCallsPerSecond: 1, backoff: { initialMs: 1000, maxMs: 16_000 } });
    const backoffs: BackoffEvent[] = [];
    r.on('backoff', (e) => backoffs.push(e));

    r.start();
    // Drive one simulated minute: fire whatever is scheduled, let the clock jump by its delay.
    let simulated = 0;
    const delays: number[] = [];
    while (simulated < 60_000) {
      const step = await timer.next();
      timer.pending = undefined;
      clock.advance(step.ms);
      simulated += step.ms;
      delays.push(step.ms);
      const done = new Promise((resolve) => r.on('cycle', function once(c) {
        r.off('cycle', once);
        resolve(c);
      }));
      step.fn();
      await done;
    }
    // Equal jitter at 0.5: 3/4 of 1 s, 2 s, 4 s, 8 s, then capped at 16 s.
    expect(backoffs.map((b) => b.delayMs).slice(0, 6)).toEqual([750, 1500, 3000, 6000, 12_000, 12_000]);
    expect(backoffs.every((b) => b.errorCode === 'HG_MINISTRY_SERVER_ERROR')).toBe(true);
    // Far fewer calls than the 60 a healthy minute would allow at 1 call/s:
    // 0 + 0.75 + 1.5 + 3 + 6 + 4 × 12 s < 60 s < … + 12 s, so exactly 10.
    expect(bulkCalls()).toBe(10);
    expect(bulkCalls()).toBe(backoffs.length);
    expect(r.stats().callsByOutcome).toEqual({ HG_MINISTRY_SERVER_ERROR: bulkCalls() });

    // Recovery: the next call succeeds and the pace returns to one interval.
    sim.resetFaults();
    const step = await timer.next();
    timer.pending = undefined;
    clock.advance(step.ms);
    const done = new Promise((resolve) => r.on('cycle', resolve));
    step.fn();
    await done;
    expect(r.stats().consecutiveFailures).toBe(0);
    expect((await timer.next()).ms).toBe(1000);
    await r.stop();
    expect(timer.pending).toBeUndefined();
  });

  it('waits at least the Retry-After of a 429', async () => {
    bind([SAMPLE.RISKLESS]);
    sim.setFaults({ rateLimit: { retryAfterSeconds: 30 } });
    const { r } = make({ backoff: { initialMs: 100, maxMs: 1000 } });
    const backoffs: BackoffEvent[] = [];
    r.on('backoff', (e) => backoffs.push(e));
    const report = await r.runOnce();
    expect(report).toMatchObject({ outcome: 'HG_MINISTRY_RATE_LIMITED', calls: 1 });
    expect(backoffs).toEqual([{ delayMs: 30_000, errorCode: 'HG_MINISTRY_RATE_LIMITED', consecutiveFailures: 1 }]);
  });

  it('keeps tapped codes queued when a call fails, and waits minRotationMs between rotations', async () => {
    bind([SAMPLE.RISKLESS]);
    const clock = manualClock();
    const { r, sink } = make({ clock: clock.now, minRotationMs: 60_000 });
    expect(await r.runOnce()).toMatchObject({ outcome: 'ok', rotationCompleted: true });
    // Too soon for another rotation: nothing to ask, no call.
    expect(await r.runOnce()).toMatchObject({ outcome: 'idle', calls: 0 });
    sim.setFaults({ status: 500 });
    r.noteTap(SAMPLE.RISKY);
    expect(await r.runOnce()).toMatchObject({ outcome: 'HG_MINISTRY_SERVER_ERROR', recent: 1 });
    expect(r.stats().recentQueued).toBe(1);
    sim.resetFaults();
    expect(await r.runOnce()).toMatchObject({ outcome: 'ok', codes: 1, recent: 1 });
    expect(sink.seen.get(SAMPLE.RISKY)?.result).toMatchObject({ status: 'RISKY' });
    clock.advance(60_000);
    expect(await r.runOnce()).toMatchObject({ outcome: 'ok', codes: 1, recent: 0, rotationCompleted: true });
    expect(bulkCalls()).toBe(4);
  });
});
