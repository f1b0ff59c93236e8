import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError, decodeFingerprints, encodeFingerprints, riceParameter } from '../../../src/vehicles/list/rice.js';
import { decodePalette, decodeValues, encodePalette, encodeValues } from '../../../src/vehicles/list/values-codec.js';
import { brotliCompressSync } from 'node:zlib';

const sorted = (xs: number[]): Float64Array => Float64Array.from([...new Set(xs)].sort((a, b) => a - b));

describe('Rice-coded fingerprints', () => {
  it('round-trips any sorted set, including gaps far beyond the Rice parameter (the escape)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 52 }).chain((bits) =>
          fc.tuple(fc.constant(bits), fc.array(fc.oneof(fc.integer({ min: 0, max: Math.min(2 ** bits - 1, 50) }), fc.double({ min: 0, max: 2 ** bits - 1, noNaN: true }).map((x) => Math.floor(x) + 0)), { maxLength: 400 })),
        ),
        ([bits, xs]) => {
          const fps = sorted(xs);
          const { k, bytes } = encodeFingerprints(fps, bits);
          expect(k).toBe(riceParameter(fps.length, bits));
          expect(Array.from(decodeFingerprints(bytes, fps.length, bits, k))).toEqual(Array.from(fps));
        },
      ),
      { numRuns: 400 },
    );
    // 300 cards at 0–299 and one at the top of 52 bits: k is 43, the last gap's quotient 512.
    const fps = sorted([...Array.from({ length: 300 }, (_, i) => i), 2 ** 52 - 1]);
    const { k, bytes } = encodeFingerprints(fps, 52);
    expect(Array.from(decodeFingerprints(bytes, fps.length, 52, k))).toEqual(Array.from(fps));
  });

  it('costs about log2(2^bits / count) + 1.5 bits a fingerprint for uniform ones', () => {
    let a = 9;
    const rnd = (): number => {
      a = (a * 16807) % 2147483647;
      return a / 2147483647;
    };
    const fps = sorted(Array.from({ length: 20_000 }, () => Math.floor(rnd() * 2 ** 30) * 2 ** 10 + Math.floor(rnd() * 2 ** 10)));
    const bits = (encodeFingerprints(fps, 40).bytes.length * 8) / fps.length;
    const ideal = Math.log2(2 ** 40 / fps.length);
    expect(bits).toBeGreaterThan(ideal);
    expect(bits).toBeLessThan(ideal + 2);
  });

  it('refuses a short stream, bytes after the last code, a fingerprint past its length, an impossible count', () => {
    const fps = sorted([3, 90, 4000, 70_000]);
    const { k, bytes } = encodeFingerprints(fps, 20);
    expect(() => decodeFingerprints(bytes.subarray(0, bytes.length - 1), 4, 20, k)).toThrow(CodecError);
    expect(() => decodeFingerprints(Uint8Array.from([...bytes, 0]), 4, 20, k)).toThrow(CodecError);
    expect(() => decodeFingerprints(bytes, 4, 16, Math.min(k, 16))).toThrow(CodecError);
    expect(() => decodeFingerprints(bytes, 2 ** 31, 20, k)).toThrow(CodecError);
    expect(() => decodeFingerprints(bytes, 4, 20, 21)).toThrow(CodecError);
  });
});

describe('value streams', () => {
  it('round-trip any indices and palettes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65_535 })), { maxLength: 500 }), (xs) => {
        const values = Uint16Array.from(xs);
        expect(Array.from(decodeValues(encodeValues(values), values.length, 65_536))).toEqual(xs);
      }),
    );
    const palette = [
      { cls: 'pass' as const, validUntil: null, profile: 'standard' },
      { cls: 'pass' as const, validUntil: 1_800_000_000_000 - (1_800_000_000_000 % 60_000), profile: 'student' },
      { cls: 'risky' as const, validUntil: null, profile: 'senior' },
    ];
    expect(decodePalette(encodePalette(palette))).toEqual(palette);
  });

  it('refuse more or fewer values than the count, an index outside the palette, bytes that are not a stream', () => {
    const values = Uint16Array.of(0, 0, 2, 0, 1);
    const stream = encodeValues(values);
    expect(() => decodeValues(stream, 4, 3)).toThrow(CodecError);
    expect(() => decodeValues(stream, 6, 3)).toThrow(CodecError);
    expect(() => decodeValues(stream, 5, 2)).toThrow(CodecError);
    expect(() => decodeValues(Buffer.from('not brotli at all'), 5, 3)).toThrow(CodecError);
    expect(() => decodeValues(encodeValues(new Uint16Array(3)), 3, 0)).toThrow(CodecError);
    // A stream that inflates far past what its count allows is stopped, not inflated.
    expect(() => decodeValues(brotliCompressSync(Buffer.alloc(10_000_000)), 5, 3)).toThrow(CodecError);
  });

  it('refuse a palette that is not a list of valid values', () => {
    const enc = (x: unknown): Buffer => brotliCompressSync(Buffer.from(JSON.stringify(x)));
    for (const bad of [{}, [['pass', null]], [['pass', 1.5, 'standard']], [['risky', 60_000, 'standard']], [['pass', null, 'Bad']], [['maybe', null, 'standard']]]) {
      expect(() => decodePalette(enc(bad))).toThrow(CodecError);
    }
    expect(() => decodePalette(Buffer.from('[]'))).toThrow(CodecError);
  });
});
