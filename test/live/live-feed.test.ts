import { describe, expect, it } from 'vitest';
import { LiveFeed, type LiveClient } from '../../src/ops/live-feed.js';
import { liveStatusFrom } from '../../src/ops/live-status.js';
import type { LiveDecision, LiveSnapshot } from '../../src/ops/live-wire.js';
import { decisionEvent, manualTicker, sampleStatus, T0 } from './helpers.js';

/** A client that records what it was sent; `buffered` is what a test says is still unsent. */
class RecordingClient implements LiveClient {
  readonly chunks: string[] = [];
  buffered = 0;
  dropped: string | null = null;
  send(chunk: string): void {
    this.chunks.push(chunk);
  }
  drop(why: 'slow' | 'closing'): void {
    this.dropped = why;
  }
  events(name: string): unknown[] {
    const out: unknown[] = [];
    for (const chunk of this.chunks) {
      for (const block of chunk.split('\n\n')) {
        const m = /^event: (\w+)\ndata: (.*)$/s.exec(block);
        if (m?.[1] === name) out.push(JSON.parse(m[2]!));
      }
    }
    return out;
  }
  decisions(): LiveDecision[] {
    return (this.events('decisions') as Array<{ events: LiveDecision[] }>).flatMap((b) => b.events);
  }
}

function feedWith(options: Partial<ConstructorParameters<typeof LiveFeed>[0]> = {}) {
  const t = manualTicker();
  let now = T0;
  const feed = new LiveFeed({ status: () => sampleStatus(), clock: () => now, ticker: t.ticker, ...options });
  return { feed, t, setNow: (ms: number) => (now = ms) };
}

describe('LiveFeed', () => {
  it('keeps only the last ringSize decisions, oldest first', () => {
    const { feed } = feedWith({ ringSize: 5 });
    for (let i = 0; i < 12; i++) feed.decision(decisionEvent({ gate: `G${i}` }));
    expect(feed.recent().map((d) => d.gate)).toEqual(['G7', 'G8', 'G9', 'G10', 'G11']);
    expect(feed.recent(2).map((d) => d.gate)).toEqual(['G10', 'G11']);
    expect(feed.snapshot().decisions).toBe(12);
  });

  it('sends only named fields: a value added to an event never leaves the feed', () => {
    const { feed } = feedWith();
    const e = { ...decisionEvent({ reader: 'R1' }), hesCode: 'A1B2345678', card: '04A1B2C3' };
    feed.decision(e);
    const [wire] = feed.recent();
    expect(Object.keys(wire!).sort()).toEqual(['at', 'elapsedMs', 'gate', 'group', 'id', 'kind', 'reader', 'reason', 'source', 'verdict']);
    expect(JSON.stringify(feed.recent())).not.toMatch(/A1B2345678|04A1B2C3/);
  });

  it('counts per minute by verdict, reason and source, and forgets minutes past the window', () => {
    const { feed, setNow } = feedWith({ minutes: 3 });
    feed.decision(decisionEvent({ at: T0 }));
    feed.decision(decisionEvent({ at: T0 + 1000, verdict: 'deny', reason: 'RISKY', source: 'ministry' }));
    feed.decision(decisionEvent({ at: T0 + 60_000, verdict: 'deny', reason: 'CODE_NOT_FOUND', source: 'cache' }));
    feed.ministryCall({ outcome: 'ok', durationMs: 40 });
    feed.ministryCall({ outcome: 'HG_MINISTRY_TIMEOUT', durationMs: 2000 });
    feed.tap({ fallback: true, command: 'sent' });
    feed.tap({ fallback: false, command: 'failed' });
    feed.tap({ fallback: false, command: 'sent' });
    setNow(T0 + 60_000);
    let minutes = feed.snapshot().minutes;
    expect(minutes.map((m) => m.minute)).toEqual([T0, T0 + 60_000]);
    expect(minutes[0]).toMatchObject({ pass: 1, deny: 1, byReason: { RISKLESS: 1, RISKY: 1 }, bySource: { cache: 1, ministry: 1 } });
    expect(minutes[1]).toMatchObject({ pass: 0, deny: 1, byReason: { CODE_NOT_FOUND: 1 } });
    // ministry calls and taps count in the clock's minute (T0 here, before setNow)
    expect(minutes[0]).toMatchObject({ ministryCalls: 2, ministryErrors: 1, ministryMsSum: 2040, ministryMsMax: 2000, fallbacks: 1, commandFailures: 1 });

    // Three minutes on, T0's bucket is reused for T0+3min and the old counts are gone.
    feed.decision(decisionEvent({ at: T0 + 180_000 }));
    setNow(T0 + 180_000);
    minutes = feed.snapshot().minutes;
    expect(minutes.map((m) => m.minute)).toEqual([T0 + 60_000, T0 + 180_000]);
    expect(minutes[1]).toMatchObject({ pass: 1, deny: 0, byReason: { RISKLESS: 1 } });
    // A late event for a minute no longer held is ignored rather than counted in the wrong minute.
    feed.decision(decisionEvent({ at: T0 }));
    expect(feed.snapshot().minutes.reduce((n, m) => n + m.pass + m.deny, 0)).toBe(2);
  });

  it('sends a snapshot and the decisions held on attach, then batches once per tick', () => {
    const { feed, t } = feedWith();
    feed.decision(decisionEvent({ gate: 'before' }));
    const c = new RecordingClient();
    feed.attach(c);
    expect(c.chunks).toHaveLength(1);
    const [snapshot] = c.events('snapshot') as LiveSnapshot[];
    expect(snapshot).toMatchObject({ environment: 'simulator', ministry: { state: 'up', circuit: 'closed' }, decisions: 1 });
    expect(c.decisions().map((d) => d.gate)).toEqual(['before']);

    for (let i = 0; i < 50; i++) feed.decision(decisionEvent({ gate: `G${i}` }));
    expect(c.chunks).toHaveLength(1); // nothing written on the hot path
    t.tick();
    expect(c.chunks).toHaveLength(2); // fifty decisions, one write
    expect(c.decisions().slice(1).map((d) => d.gate)).toEqual(Array.from({ length: 50 }, (_, i) => `G${i}`));
    t.tick();
    expect(c.chunks).toHaveLength(2); // nothing new, nothing sent
  });

  it('serialises a batch once for all clients, and a late joiner never gets a decision twice', () => {
    const { feed, t } = feedWith();
    const a = new RecordingClient();
    feed.attach(a);
    feed.decision(decisionEvent({ gate: 'X' }));
    const b = new RecordingClient();
    feed.attach(b); // X is flushed to a first, and reaches b in its initial batch
    feed.decision(decisionEvent({ gate: 'Y' }));
    t.tick();
    expect(a.decisions().map((d) => d.gate)).toEqual(['X', 'Y']);
    expect(b.decisions().map((d) => d.gate)).toEqual(['X', 'Y']);
    expect(a.chunks.at(-1)).toBe(b.chunks.at(-1));
  });

  it('reports decisions that overflowed the ring between two ticks as missed', () => {
    const { feed, t } = feedWith({ ringSize: 10 });
    const c = new RecordingClient();
    feed.attach(c);
    for (let i = 0; i < 25; i++) feed.decision(decisionEvent());
    t.tick();
    const batches = c.events('decisions') as Array<{ events: unknown[]; missed: number }>;
    expect(batches.at(-1)).toMatchObject({ missed: 15 });
    expect(batches.at(-1)!.events).toHaveLength(10);
  });

  it('sends a snapshot every snapshotEveryMs and a heartbeat comment every heartbeatEveryMs', () => {
    const { feed, t } = feedWith({ flushEveryMs: 250, snapshotEveryMs: 2000, heartbeatEveryMs: 15_000 });
    const c = new RecordingClient();
    feed.attach(c);
    t.tick(7);
    expect(c.events('snapshot')).toHaveLength(1);
    t.tick(1);
    expect(c.events('snapshot')).toHaveLength(2);
    t.tick(52);
    expect(c.events('snapshot')).toHaveLength(8);
    expect(c.chunks.filter((s) => s.startsWith(': heartbeat'))).toHaveLength(1);
  });

  it('drops a client that does not keep up instead of buffering for it, and keeps serving the others', () => {
    const { feed, t } = feedWith({ maxBufferedBytes: 4096 });
    const slow = new RecordingClient();
    const fast = new RecordingClient();
    feed.attach(slow);
    feed.attach(fast);
    slow.buffered = 4000; // its socket has not taken what it was sent
    for (let i = 0; i < 20; i++) feed.decision(decisionEvent());
    t.tick();
    expect(slow.dropped).toBe('slow');
    expect(fast.dropped).toBeNull();
    expect(feed.clientCount).toBe(1);
    const sent = slow.chunks.length;
    feed.decision(decisionEvent());
    t.tick();
    expect(slow.chunks).toHaveLength(sent);
    expect(fast.decisions()).toHaveLength(21);
  });

  it('runs its timer only while a client is attached', () => {
    const { feed, t } = feedWith();
    expect(t.running).toBe(false);
    const detach = feed.attach(new RecordingClient());
    const c2 = new RecordingClient();
    feed.attach(c2);
    expect(t.running).toBe(true);
    detach();
    expect(t.running).toBe(true);
    feed.detachAll();
    expect(c2.dropped).toBe('closing');
    expect(t.running).toBe(false);
    expect(feed.clientCount).toBe(0);
  });

  it('survives a status provider that throws: decisions still flow, the error is reported', () => {
    const errors: unknown[] = [];
    const { feed, t } = feedWith({
      status: () => {
        throw new Error('boom');
      },
      onError: (err) => errors.push(err),
      snapshotEveryMs: 250,
    });
    const c = new RecordingClient();
    feed.attach(c);
    feed.decision(decisionEvent());
    t.tick();
    expect(c.decisions()).toHaveLength(1);
    expect(c.events('snapshot')).toHaveLength(0);
    expect(errors).toHaveLength(2);
  });

  it('builds its status from the composition root objects', () => {
    const status = liveStatusFrom({
      environment: 'test',
      clock: () => T0,
      ministryHealth: { state: 'down', lastError: 'HG_MINISTRY_TIMEOUT', lastSuccessAt: null },
      guard: { snapshot: () => ({ state: 'open', lastError: 'HG_MINISTRY_TIMEOUT', openUntil: T0 + 4000, pausedUntil: T0 - 1 }) },
      status: { size: 7, inflightCount: 2, counters: { hits: 10, misses: 4, stale: 1 } },
      devices: () => [
        { id: 'R1', role: 'reader', gates: ['G1'], path: '/dev/ttyUSB0', profile: 'acme', state: 'open', since: T0, reopens: 0, failedAttempts: 0, count: 3, dropped: {} },
      ],
    });
    expect(status()).toEqual({
      environment: 'test',
      ministry: { state: 'down', circuit: 'open', lastError: 'HG_MINISTRY_TIMEOUT', lastSuccessAt: null, openUntil: T0 + 4000, pausedUntil: 0 },
      cache: { entries: 7, hits: 10, misses: 4, stale: 1, inflight: 2 },
      devices: [{ id: 'R1', role: 'reader', gates: ['G1'], path: '/dev/ttyUSB0', profile: 'acme', state: 'open', since: T0, lastError: null, reopens: 0, count: 3 }],
    });
  });

  it('remembers the gates it has seen, at most a thousand (any validator may send any gate id)', () => {
    const { feed } = feedWith({});
    for (let i = 0; i < 1005; i++) feed.decision(decisionEvent({ gate: `G${i % 1003}` }));
    const seen = [...feed.gates()];
    expect(seen).toHaveLength(1000);
    expect(seen.slice(0, 2)).toEqual(['G0', 'G1']);
  });

  it('adds the event-loop delay when a readout is wired, null until its first window', () => {
    let reading: { maxMs: number; p99Ms: number } | null = null;
    const status = liveStatusFrom({
      environment: 'simulator',
      clock: () => T0,
      ministryHealth: { state: 'up', lastError: null, lastSuccessAt: T0 },
      guard: { snapshot: () => ({ state: 'closed', lastError: null, openUntil: 0, pausedUntil: 0 }) },
      status: { size: 0, inflightCount: 0, counters: { hits: 0, misses: 0, stale: 0 } },
      loopDelay: { snapshot: () => reading },
    });
    expect(status().loop).toBeNull();
    reading = { maxMs: 31, p99Ms: 4 };
    expect(status().loop).toEqual({ maxMs: 31, p99Ms: 4 });
  });
});
