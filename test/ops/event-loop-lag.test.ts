/**
 * The lag probe's readings, with the clock and the timers under the test's control: `lagMs`
 * (admission: lateness that lasts, or a stall in progress) and `timerLagMs` (a decision's
 * ministry wait: lateness that lasts, not a stall in progress), and `utilization` (admission:
 * the loop's busy share, which a saturated loop raises while its timers stay on time).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventLoopMonitor } from '../../src/ops/event-loop.js';

describe('event-loop lag probe', () => {
  let now = 0;
  /** The loop's cumulative busy and idle ms, as perf_hooks reports them. */
  let times = { idle: 0, active: 0 };
  let m: EventLoopMonitor;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    now = 0;
    times = { idle: 0, active: 0 };
    m = new EventLoopMonitor({ now: () => now, probeMs: 10, windowMs: 10_000, loopTimes: () => times });
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

  /** The next probe runs on time after `busyMs` of the 10 ms were spent working. */
  function busyProbe(busyMs: number): void {
    times = { idle: times.idle + 10 - busyMs, active: times.active + busyMs };
    probe(0);
  }

  it('reads a saturated loop as busy while every probe is on time, and an idle one as idle', () => {
    for (let i = 0; i < 20; i++) busyProbe(9.5);
    expect(m.lagMs()).toBe(0);
    expect(m.utilization()).toBeGreaterThan(0.9);
    for (let i = 0; i < 20; i++) busyProbe(1);
    expect(m.utilization()).toBeLessThan(0.15);
  });

  it('does not read one busy turn as saturation, but sees a flood within a few probes', () => {
    for (let i = 0; i < 20; i++) busyProbe(1);
    busyProbe(10); // one turn of work (a collection, a burst of taps)
    expect(m.utilization()).toBeLessThan(0.6);
    busyProbe(10);
    busyProbe(10);
    busyProbe(10);
    expect(m.utilization()).toBeGreaterThan(0.6);
  });

  it('reads 0 when stopped', () => {
    for (let i = 0; i < 20; i++) busyProbe(10);
    m.stop();
    expect(m.utilization()).toBe(0);
  });
});
