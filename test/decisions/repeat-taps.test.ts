/**
 * Passes kept for second-tap refusal are card ids: held only as long as the longest repeat-tap
 * window, on the decisions' clock. An injected clock and timers: the test moves time itself.
 */
import { describe, expect, it } from 'vitest';
import { longestRepeatTapWindow, RepeatTaps } from '../../src/decisions/repeat-taps.js';
import { POLICY_DEFAULTS } from '../../src/config/settings.js';
import type { Timers } from '../../src/types.js';

const T0 = Date.UTC(2026, 11, 1, 8);
const MINUTE = 60_000;

/** A clock and timers the test drives: `advance(ms)` runs every timer due by then, in time order. */
function fakeTime() {
  let now = T0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout(fn, ms) {
      const id = ++seq;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(id) {
      pending.delete(id as number);
    },
  };
  const advance = (ms: number): void => {
    const end = now + ms;
    for (;;) {
      const next = [...pending].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (next === undefined) break;
      pending.delete(next[0]);
      now = Math.max(now, next[1].at);
      next[1].fn();
    }
    now = end;
  };
  /** Run the earliest timer (time moves to it); false when none is pending. */
  const runNext = (): boolean => {
    const next = [...pending].sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
    if (next === undefined) return false;
    pending.delete(next[0]);
    now = Math.max(now, next[1].at);
    next[1].fn();
    return true;
  };
  return { clock: () => now, timers, advance, runNext, pending };
}

describe('repeat taps', () => {
  it('holds a pass for the hold time and then forgets the card, with no tap to prompt it', () => {
    const time = fakeTime();
    const taps = new RepeatTaps({ holdMs: 5 * MINUTE, clock: time.clock, timers: time.timers });
    taps.recordPass('north', '04A1B2C3', time.clock());
    time.advance(5 * MINUTE);
    expect(taps.lastPassAt('north', '04A1B2C3')).toBe(T0);
    expect(taps.lastPassAt('south', '04A1B2C3')).toBeUndefined();
    expect(taps.size).toBe(1);
    time.advance(1);
    expect(taps.lastPassAt('north', '04A1B2C3')).toBeUndefined();
    // Gone from memory too, not just hidden: the station was quiet, the timer did it.
    expect(taps.size).toBe(0);
    expect(time.pending.size).toBe(0);
  });

  it('keeps a card that passes again for its newest pass, and the others for theirs', () => {
    const time = fakeTime();
    const taps = new RepeatTaps({ holdMs: MINUTE, clock: time.clock, timers: time.timers });
    taps.recordPass('g', 'A1', time.clock());
    time.advance(20_000);
    taps.recordPass('g', 'B2', time.clock());
    time.advance(20_000);
    taps.recordPass('g', 'A1', time.clock());
    time.advance(30_000); // B2 is 50 s old, A1 30 s
    expect(taps.size).toBe(2);
    time.advance(10_001); // B2 past the minute
    expect([taps.lastPassAt('g', 'A1'), taps.lastPassAt('g', 'B2'), taps.size]).toEqual([T0 + 40_000, undefined, 1]);
    time.advance(20_000);
    expect(taps.size).toBe(0);
  });

  it('forgets a long quiet spell\'s passes in slices, a turn of the event loop each', () => {
    const time = fakeTime();
    const taps = new RepeatTaps({ holdMs: MINUTE, clock: time.clock, timers: time.timers });
    for (let i = 0; i < 2500; i++) taps.recordPass('g', `C${i}`, time.clock());
    const slices: number[] = [];
    while (time.runNext()) slices.push(taps.size);
    expect(time.clock()).toBe(T0 + MINUTE + 1);
    expect(slices).toEqual([1500, 500, 0]);
  });

  it('holds at most maxEntries passes, the oldest going first', () => {
    const time = fakeTime();
    const taps = new RepeatTaps({ holdMs: MINUTE, clock: time.clock, timers: time.timers, maxEntries: 2 });
    for (const card of ['A1', 'B2', 'C3']) taps.recordPass('g', card, time.clock());
    expect(['A1', 'B2', 'C3'].map((c) => taps.lastPassAt('g', c))).toEqual([undefined, T0, T0]);
  });

  it('holds nothing when no gate refuses repeat taps', () => {
    const time = fakeTime();
    const taps = new RepeatTaps({ holdMs: 0, clock: time.clock, timers: time.timers });
    taps.recordPass('g', 'A1', time.clock());
    expect([taps.size, time.pending.size]).toEqual([0, 0]);
  });

  it('holds passes for the longest window of any gate, unlisted gates (the defaults) included', () => {
    const policy = (repeatTapWindowMs: number) => ({ ...POLICY_DEFAULTS, repeatTapWindowMs });
    expect(longestRepeatTapWindow({ defaults: policy(0), list: [] })).toBe(0);
    expect(longestRepeatTapWindow({ defaults: policy(MINUTE), list: [{ policy: policy(5 * MINUTE) }, { policy: policy(0) }] })).toBe(5 * MINUTE);
    expect(longestRepeatTapWindow({ defaults: policy(10 * MINUTE), list: [{ policy: policy(5 * MINUTE) }] })).toBe(10 * MINUTE);
  });
});
