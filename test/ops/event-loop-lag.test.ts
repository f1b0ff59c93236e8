/**
 * The lag probe's two readings, with the clock and the timers under the test's control: `lagMs`
 * (admission: lateness that lasts, or a stall in progress) and `recentLagMs` (a decision's
 * ministry wait: how late timers fired lately, one late probe included).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventLoopMonitor } from '../../src/ops/event-loop.js';

describe('event-loop lag probe', () => {
  let now = 0;
  let m: EventLoopMonitor;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    now = 0;
    m = new EventLoopMonitor({ now: () => now, probeMs: 10, windowMs: 10_000 });
    m.start();
  });
  afterEach(() => {
    m.stop();
    vi.useRealTimers();
  });

  /** The next probe runs `lateMs` after it was due (the loop was busy that long). */
  function probe(lateMs: number): void {
    now += 10 + lateMs;
    vi.advanceTimersToNextTimer();
  }

  it('reads 0 on time, and a stall while it is in progress', () => {
    for (let i = 0; i < 5; i++) probe(0);
    expect(m.lagMs()).toBe(0);
    expect(m.recentLagMs()).toBe(0);
    now += 10 + 35; // due 10 ms from the last probe; 35 ms past that and not run yet
    expect(m.lagMs()).toBe(35);
    expect(m.recentLagMs()).toBe(35);
  });

  it('keeps one late probe in view for the ministry wait, where admission waits for lateness that lasts', () => {
    for (let i = 0; i < 5; i++) probe(0);
    probe(30);
    probe(0);
    expect(m.lagMs()).toBe(0); // one blip: admission still admits
    expect(m.recentLagMs()).toBe(30); // but a deadline timer set now may fire that late
    for (let i = 0; i < 8; i++) probe(0);
    expect(m.recentLagMs()).toBe(0); // out of view after 8 probes
  });
});
