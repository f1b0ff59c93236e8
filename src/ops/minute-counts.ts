/**
 * Counts per wall-clock minute for the live page: decisions by verdict, reason and source,
 * deadline fallbacks and gate command failures, ministry calls and their latency.
 *
 * A fixed ring of buckets, one per minute, indexed by the minute's number: counting is O(1)
 * and allocates nothing; a bucket is reset when a newer minute lands in its slot.
 */
import type { Reason, Source, Verdict } from '../types.js';
import type { MinuteCounts } from './live-wire.js';

const MINUTE_MS = 60_000;

function emptyMinute(minute: number): MinuteCounts {
  return {
    minute,
    pass: 0,
    deny: 0,
    byReason: {},
    bySource: {},
    fallbacks: 0,
    commandFailures: 0,
    ministryCalls: 0,
    ministryErrors: 0,
    ministryMsSum: 0,
    ministryMsMax: 0,
  };
}

export class MinuteCounter {
  private readonly buckets: MinuteCounts[];

  /** Keeps the last `minutes` minutes (at least one). */
  constructor(minutes: number) {
    this.buckets = Array.from({ length: Math.max(1, minutes) }, () => emptyMinute(-1));
  }

  decision(at: number, e: { verdict: Verdict; reason: Reason; source: Source }): void {
    const b = this.bucket(at);
    if (b === undefined) return;
    if (e.verdict === 'pass') b.pass++;
    else b.deny++;
    b.byReason[e.reason] = (b.byReason[e.reason] ?? 0) + 1;
    b.bySource[e.source] = (b.bySource[e.source] ?? 0) + 1;
  }

  // Plain arguments, not an options object: counting allocates nothing.
  tap(at: number, fallback: boolean, commandFailed: boolean): void {
    const b = this.bucket(at);
    if (b === undefined) return;
    if (fallback) b.fallbacks++;
    if (commandFailed) b.commandFailures++;
  }

  ministryCall(at: number, failed: boolean, durationMs: number): void {
    const b = this.bucket(at);
    if (b === undefined) return;
    b.ministryCalls++;
    if (failed) b.ministryErrors++;
    b.ministryMsSum += durationMs;
    if (durationMs > b.ministryMsMax) b.ministryMsMax = durationMs;
  }

  /** Copies of the minutes held that had any activity, oldest first (the one holding `now` last). */
  recent(now: number): MinuteCounts[] {
    const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const oldest = current - (this.buckets.length - 1) * MINUTE_MS;
    return this.buckets
      .filter((b) => b.minute >= oldest && b.minute <= current)
      .sort((a, b) => a.minute - b.minute)
      .map((b) => ({ ...b, byReason: { ...b.byReason }, bySource: { ...b.bySource } }));
  }

  /** The bucket of the minute holding `at`, reset if it held an older minute; undefined if `at` is too old. */
  private bucket(at: number): MinuteCounts | undefined {
    const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    const index = Math.floor(at / MINUTE_MS) % this.buckets.length;
    const b = this.buckets[index]!;
    if (b.minute === minute) return b;
    if (b.minute > minute) return undefined;
    b.minute = minute;
    b.pass = b.deny = b.fallbacks = b.commandFailures = 0;
    b.ministryCalls = b.ministryErrors = b.ministryMsSum = b.ministryMsMax = 0;
    b.byReason = {};
    b.bySource = {};
    return b;
  }
}
