import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ListState } from '../../../src/vehicles/list/index.js';
import { applyDelta, buildState, diff, lookup, stateDigest, valueKey } from '../../../src/vehicles/list/index.js';
import { arbBits, arbState, arbStatePair, shuffledPalette } from './helpers.js';

const entries = (s: ListState): Array<[number, string]> => Array.from(s.fps, (fp, i) => [fp, valueKey(s.palette[s.values[i]!]!)]);

describe('diff and applyDelta', () => {
  it('applying the diff of two states gives the second: the same entries and the same digest as building it afresh', () => {
    fc.assert(
      fc.property(arbStatePair, ([prev, next]) => {
        const delta = diff(prev, next);
        const applied = applyDelta(prev, delta);
        expect(entries(applied)).toEqual(entries(next));
        expect(stateDigest(applied)).toBe(stateDigest(next));
        // A delta holds only what changed.
        for (let i = 0; i < delta.upserted.length; i++) {
          const before = lookup(prev, delta.upserted[i]!);
          expect(before === undefined ? undefined : valueKey(before)).not.toBe(valueKey(delta.palette[delta.values[i]!]!));
        }
        for (const fp of delta.removed) expect(lookup(next, fp)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('the same state gives an empty delta; a delta with unsorted fingerprints is refused', () => {
    fc.assert(
      fc.property(arbBits.chain(arbState), (s) => {
        const d = diff(s, s);
        expect([d.removed.length, d.upserted.length]).toEqual([0, 0]);
      }),
      { numRuns: 50 },
    );
    const s = buildState(20, [{ fp: 1, value: { cls: 'pass', validUntil: null, profile: 'standard' } }]);
    expect(() => applyDelta(s, { removed: Float64Array.of(5, 3), upserted: new Float64Array(0), values: new Uint16Array(0), palette: [] })).toThrow(RangeError);
    expect(() => applyDelta(s, { removed: new Float64Array(0), upserted: Float64Array.of(2 ** 20), values: Uint16Array.of(0), palette: [{ cls: 'pass', validUntil: null, profile: 'standard' }] })).toThrow(RangeError);
    expect(() => diff(s, buildState(21, []))).toThrow(RangeError);
  });
});

describe('stateDigest', () => {
  it('does not depend on the palette order, unused or repeated palette values', () => {
    fc.assert(
      fc.property(arbBits.chain(arbState), (s) => {
        expect(stateDigest(shuffledPalette(s))).toBe(stateDigest(s));
      }),
      { numRuns: 100 },
    );
    const s = buildState(20, [{ fp: 1, value: { cls: 'pass', validUntil: null, profile: 'standard' } }, { fp: 2, value: { cls: 'risky', validUntil: null, profile: 'standard' } }]);
    const repeated: ListState = { ...s, palette: [...s.palette, s.palette[0]!], values: Uint16Array.of(s.values[0]!, s.values[1]!).map((v) => (v === 0 ? s.palette.length : v)) };
    expect(stateDigest(repeated)).toBe(stateDigest(s));
  });

  it('changes with any fingerprint, any value, and the fingerprint length', () => {
    const v = { cls: 'pass', validUntil: null, profile: 'standard' } as const;
    const base = stateDigest(buildState(20, [{ fp: 1, value: v }, { fp: 2, value: v }]));
    expect(stateDigest(buildState(20, [{ fp: 1, value: v }, { fp: 3, value: v }]))).not.toBe(base);
    expect(stateDigest(buildState(20, [{ fp: 1, value: v }, { fp: 2, value: { ...v, profile: 'student' } }]))).not.toBe(base);
    expect(stateDigest(buildState(20, [{ fp: 1, value: v }, { fp: 2, value: { ...v, validUntil: 60_000 } }]))).not.toBe(base);
    expect(stateDigest(buildState(21, [{ fp: 1, value: v }, { fp: 2, value: v }]))).not.toBe(base);
    // Fingerprints above 2^32 count in full.
    expect(stateDigest(buildState(52, [{ fp: 2 ** 40, value: v }]))).not.toBe(stateDigest(buildState(52, [{ fp: 2 ** 40 + 2 ** 33, value: v }])));
  });
});
