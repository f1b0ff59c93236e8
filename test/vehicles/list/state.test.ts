import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EntryValue, ListState } from '../../../src/vehicles/list/index.js';
import { bitsFor, buildState, lookup, stricter, valueKey } from '../../../src/vehicles/list/index.js';
import { arbBits, arbEntries, arbValue, ISSUED, MINUTE, testKey } from './helpers.js';

const pass = (validUntil: number | null, profile = 'standard'): EntryValue => ({ cls: 'pass', validUntil, profile });
const deny = (cls: EntryValue['cls'], profile = 'standard'): EntryValue => ({ cls, validUntil: null, profile });

function entriesOf(s: ListState): Array<[number, string]> {
  return Array.from(s.fps, (fp, i) => [fp, valueKey(s.palette[s.values[i]!]!)]);
}

describe('buildState', () => {
  it('sorts, dedupes and keeps each fingerprint with the stricter of its values, whatever the input order', () => {
    fc.assert(
      fc.property(arbBits.chain((bits) => fc.tuple(fc.constant(bits), arbEntries(bits))), ([bits, entries]) => {
        const s = buildState(bits, entries);
        for (let i = 1; i < s.fps.length; i++) expect(s.fps[i]!).toBeGreaterThan(s.fps[i - 1]!);
        const expected = new Map<number, EntryValue>();
        for (const e of entries) expected.set(e.fp, expected.has(e.fp) ? stricter(expected.get(e.fp)!, e.value) : e.value);
        expect(s.fps.length).toBe(expected.size);
        for (const [fp, v] of expected) expect(lookup(s, fp)).toEqual(v);
        expect(entriesOf(buildState(bits, [...entries].reverse()))).toEqual(entriesOf(s));
      }),
      { numRuns: 200 },
    );
  });

  it('collisions: every deny class beats unknown, which beats pass; an earlier end beats a later one and null', () => {
    const order: EntryValue[] = [deny('risky'), deny('expired'), deny('not-found'), deny('unknown'), pass(ISSUED + MINUTE), pass(ISSUED + 2 * MINUTE), pass(null)];
    for (let i = 0; i < order.length; i++) {
      for (let j = i + 1; j < order.length; j++) {
        for (const pair of [[order[i]!, order[j]!], [order[j]!, order[i]!]]) {
          const s = buildState(20, pair.map((value) => ({ fp: 77, value })));
          expect(s.fps.length).toBe(1);
          expect(lookup(s, 77)).toEqual(order[i]);
        }
      }
    }
    // Same class and end: one fixed profile, whatever came first.
    expect(lookup(buildState(20, [{ fp: 5, value: pass(null, 'student') }, { fp: 5, value: pass(null, 'senior') }]), 5)).toEqual(pass(null, 'senior'));
    expect(lookup(buildState(20, [{ fp: 5, value: pass(null, 'senior') }, { fp: 5, value: pass(null, 'student') }]), 5)).toEqual(pass(null, 'senior'));
  });

  it('rounds a pass validUntil down to the minute (a vehicle stops a code early, never late)', () => {
    const s = buildState(20, [{ fp: 1, value: pass(ISSUED + 59_999) }, { fp: 2, value: pass(ISSUED + MINUTE) }]);
    expect(lookup(s, 1)).toEqual(pass(ISSUED));
    expect(lookup(s, 2)).toEqual(pass(ISSUED + MINUTE));
  });

  it('refuses fingerprints outside [0, 2^bits) and values that are not entry values', () => {
    for (const fp of [-1, 2 ** 20, 1.5, Number.NaN]) expect(() => buildState(20, [{ fp, value: pass(null) }])).toThrow(RangeError);
    for (const value of [deny('risky', 'Bad Profile'), { cls: 'risky', validUntil: ISSUED, profile: 'standard' }, { cls: 'maybe', validUntil: null, profile: 'standard' }]) {
      expect(() => buildState(20, [{ fp: 1, value: value as EntryValue }])).toThrow(RangeError);
    }
    expect(() => buildState(53, [])).toThrow(RangeError);
  });

  it('an empty list looks nothing up', () => {
    const s = buildState(31, []);
    expect(s.fps.length).toBe(0);
    expect(lookup(s, 0)).toBeUndefined();
  });
});

describe('lookup', () => {
  it('finds every listed card exactly and no card it does not list', () => {
    const key = testKey();
    const n = 50_000;
    const bits = bitsFor(n);
    const values = [pass(null), pass(null, 'student'), deny('risky'), pass(ISSUED + 7 * MINUTE), deny('unknown', 'student')];
    const ids = Array.from({ length: n }, (_, i) => `04${i.toString(16).toUpperCase().padStart(8, '0')}`);
    const s = buildState(bits, ids.map((id, i) => ({ fp: key.fingerprint(id, bits), value: values[i % values.length]! })));
    expect(s.fps.length).toBe(n); // no collision among these 50,000 (fixed key): each keeps its own value
    ids.forEach((id, i) => expect(lookup(s, key.fingerprint(id, bits))).toEqual(values[i % values.length]));
    const listed = new Set(s.fps);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2 ** bits - 1, noNaN: true }).map((x) => Math.floor(x)), (fp) => {
        expect(lookup(s, fp) !== undefined).toBe(listed.has(fp));
      }),
    );
    expect(lookup(s, s.fps[0]! - 1)).toBeUndefined();
    expect(lookup(s, s.fps[n - 1]! + 1)).toBeUndefined();
  });

  it('false matches: 1,000,000 unlisted cards against 100,000 listed ones at bitsFor() match about as often as 10^-6 a tap allows', () => {
    const key = testKey();
    const n = 100_000;
    const bits = bitsFor(n);
    const s = buildState(bits, Array.from({ length: n }, (_, i) => ({ fp: key.fingerprint(`04${i.toString(16).toUpperCase().padStart(8, '0')}`, bits), value: pass(null) })));
    let hits = 0;
    for (let i = 0; i < 1_000_000; i++) if (lookup(s, key.fingerprint(`08${i.toString(16).toUpperCase().padStart(8, '0')}`, bits)) !== undefined) hits++;
    // Expected 10^6 · n / 2^bits ≈ 0.36 (the fixed key gives the same count every run); at 10^-6 a tap
    // it would be 1, and one bit fewer doubles it. Five or more is a bound at least 30× looser than
    // the rate (Poisson(0.36) reaches 5 with p < 10^-5): a length too short by 5 bits gives ~12.
    expect(hits).toBeLessThan(5);
  });

  it('arbitrary values survive a build unchanged (apart from the minute rounding of a pass)', () => {
    fc.assert(
      fc.property(arbValue, (v) => {
        expect(lookup(buildState(8, [{ fp: 3, value: v }]), 3)).toEqual(v);
      }),
    );
  });
});
