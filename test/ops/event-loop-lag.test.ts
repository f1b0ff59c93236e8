/**
 * The lag probe's two readings, with the clock and the timers under the test's control: `lagMs`
 * (admission: lateness that lasts, or a stall in progress) and `timerLagMs` (a decision's
 * ministry wait: lateness that lasts, not a stall in progress).
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

  it('reads 0 on time; admission sees a stall in progress, a timer set now does not inherit it', () => {
    for (let i = 0; i < 5; i++) probe(0);
    expect(m.lagMs()).toBe(0);
    expect(m.timerLagMs()).toBe(0);
    now += 10 + 35; // due 10 ms from the last probe; 35 ms past that and not run yet
    expect(m.lagMs()).toBe(35);
    expect(m.timerLagMs()).toBe(0);
  });

  it('counts lateness that lasts, not one blip', () => {
    for (let i = 0; i < 5; i++) probe(0);
    probe(30);
    expect(m.lagMs()).toBe(0);
    expect(m.timerLagMs()).toBe(0); // one late probe: a blip
    probe(40);
    expect(m.timerLagMs()).toBe(30); // two in a row: timers are firing that late
    expect(m.lagMs()).toBe(30);
    probe(0);
    expect(m.timerLagMs()).toBe(0);
  });
});
