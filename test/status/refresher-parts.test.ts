/** Unit tests of the refresher's parts: the recent-tap queue, the back-off and the rotation. */
import { describe, expect, it } from 'vitest';
import { HesGateError } from '../../src/errors.js';
import { Backoff } from '../../src/status/backoff.js';
import { RecentCodes } from '../../src/status/recent-codes.js';
import { Rotation } from '../../src/status/rotation.js';

describe('RecentCodes', () => {
  it('keeps tap order, once per code, and drops the oldest beyond its capacity', () => {
    const q = new RecentCodes(3);
    for (const c of ['A000000001', 'A000000002', 'A000000001', 'not-a-code', 'a000000003', 'A000000003', 'A000000004']) q.note(c);
    expect(q.size).toBe(3);
    expect(q.take(2)).toEqual(['A000000002', 'A000000003']);
    expect(q.take(5)).toEqual(['A000000004']);
    expect(q.size).toBe(0);
  });
});

describe('Backoff', () => {
  it('doubles per consecutive failure with equal jitter, capped, and resets on success', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 4000, random: () => 1 });
    expect([1, 2, 3, 4].map(() => b.failed(new Error('x'), 0))).toEqual([1000, 2000, 4000, 4000]);
    expect(b.consecutiveFailures).toBe(4);
    b.succeeded();
    const half = new Backoff({ initialMs: 1000, maxMs: 4000, random: () => 0 });
    expect(half.failed(new Error('x'), 10_000)).toBe(500);
    expect(half.notBefore).toBe(10_500);
    expect(b.failed(new Error('x'), 0)).toBe(1000);
  });

  it('waits at least the ministry\'s Retry-After', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    const limited = new HesGateError('HG_MINISTRY_RATE_LIMITED', '429', { details: { retryAfterMs: 30_000 } });
    expect(b.failed(limited, 0)).toBe(30_000);
  });

  it('refuses an impossible range', () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10, random: Math.random })).toThrow(TypeError);
    expect(() => new Backoff({ initialMs: 20, maxMs: 10, random: Math.random })).toThrow(TypeError);
  });
});

describe('Rotation', () => {
  const store = (codes: string[]) => ({
    iterateCodes: (after: string | undefined, limit: number) => codes.filter((c) => after === undefined || c > after).slice(0, limit),
  });

  it('walks the codes chunk by chunk, ends on the last full chunk, and reports the rotation', () => {
    const r = new Rotation(store(['A', 'B', 'C', 'D']), 0);
    const first = r.plan(0, 2, new Set());
    expect(first).toEqual({ fromRotation: 2, nextCursor: 'B', rotationEnds: false });
    r.begin(first, 0);
    expect(r.succeeded(first, 0, 10)).toBeUndefined();
    const chosen = new Set(['C']); // C came in as a recent tap: not counted twice
    const second = r.plan(20, 2, chosen);
    expect(second).toEqual({ fromRotation: 1, nextCursor: undefined, rotationEnds: true });
    expect([...chosen]).toEqual(['C', 'D']);
    r.begin(second, 20);
    expect(r.succeeded(second, 20, 30)).toEqual({ codes: 3, calls: 2, failedCalls: 0, durationMs: 30, completedAt: 30 });
    expect(r.stats).toMatchObject({ rotationsCompleted: 1, lastRotationStartedAt: 0, lastRotationCompletedAt: 30 });
  });

  it('keeps the cursor after a failed call and waits minRotationMs before starting again', () => {
    const r = new Rotation(store(['A', 'B']), 60_000);
    const plan = r.plan(0, 1, new Set());
    r.begin(plan, 0);
    r.failed(plan);
    expect(r.plan(1, 1, new Set())).toEqual(plan);
    r.succeeded(plan, 0, 1);
    const end = r.plan(2, 1, new Set());
    r.begin(end, 2);
    expect(r.succeeded(end, 2, 3)).toMatchObject({ calls: 3, failedCalls: 1 });
    expect(r.plan(59_999, 1, new Set()).fromRotation).toBe(0);
    expect(r.plan(60_000, 1, new Set()).fromRotation).toBe(1);
  });
});
