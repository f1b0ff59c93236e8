/** What the list's tests share: values, entries and states as fast-check arbitraries, and a fixed key. */
import fc from 'fast-check';
import type { EntryValue, ListEntry, ListState, RefusalReason } from '../../../src/vehicles/list/index.js';
import { buildState, ListKey, ListRefused } from '../../../src/vehicles/list/index.js';

/** A fixed key, so a test's fingerprints (and its counts of false matches) are the same every run. */
export const TEST_KEY_TEXT = `# tests\nk1:${Buffer.alloc(32, 42).toString('base64')}\n`;
export const testKey = (): ListKey => ListKey.parse(TEST_KEY_TEXT);

export const MINUTE = 60_000;
export const ISSUED = Date.UTC(2026, 11, 8, 0, 0);

export const arbValue: fc.Arbitrary<EntryValue> = fc.oneof(
  fc.record({ cls: fc.constant('pass' as const), validUntil: fc.option(fc.integer({ min: 0, max: 2880 }).map((m) => ISSUED + m * MINUTE), { nil: null }), profile: fc.constantFrom('standard', 'student', 'senior') }),
  fc.record({ cls: fc.constantFrom('risky' as const, 'expired' as const, 'not-found' as const, 'unknown' as const), validUntil: fc.constant(null), profile: fc.constantFrom('standard', 'student') }),
);

/** Entries with fingerprints of `bits` bits, some of them clustered so gaps of every size occur. */
export function arbEntries(bits: number, maxLength = 300): fc.Arbitrary<ListEntry[]> {
  const fp = fc.oneof(fc.integer({ min: 0, max: Math.min(40, 2 ** bits - 1) }), fc.integer({ min: 0, max: Math.min(2 ** bits - 1, 2 ** 31 - 1) }), fc.double({ min: 0, max: 2 ** bits - 1, noNaN: true }).map((x) => Math.floor(x) + 0), fc.constant(2 ** bits - 1));
  return fc.array(fc.record({ fp, value: arbValue }), { maxLength });
}

export const arbBits = fc.constantFrom(1, 8, 20, 31, 32, 33, 41, 44, 52);

export function arbState(bits: number): fc.Arbitrary<ListState> {
  return arbEntries(bits).map((e) => buildState(bits, e));
}

/** Two states of one length, the second a variation of the first (removals, changes, additions). */
export const arbStatePair: fc.Arbitrary<[ListState, ListState]> = arbBits.chain((bits) =>
  fc.tuple(arbEntries(bits), arbEntries(bits, 60), fc.array(fc.boolean(), { maxLength: 300 }), fc.array(arbValue, { maxLength: 300 })).map(([base, added, keep, changed]) => {
    const next = base.flatMap((e, i) => (keep[i] === false ? [] : [{ fp: e.fp, value: i % 3 === 0 ? (changed[i] ?? e.value) : e.value }]));
    return [buildState(bits, base), buildState(bits, [...next, ...added])] as [ListState, ListState];
  }),
);

/** The same state with its palette in another order (and one unused value): what must not change its digest. */
export function shuffledPalette(s: ListState): ListState {
  const order = s.palette.map((_, i) => i).reverse();
  const palette = [{ cls: 'unknown', validUntil: null, profile: 'zzz' } as EntryValue, ...order.map((i) => s.palette[i]!)];
  const at = new Map(order.map((old, k) => [old, k + 1]));
  return { bits: s.bits, fps: s.fps, values: s.values.map((v) => at.get(v)!), palette };
}

/** What a list check said: the reason it refused, or 'accepted'. */
export function refusal(fn: () => unknown): RefusalReason | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    if (err instanceof ListRefused) return err.reason;
    throw err;
  }
}
