import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ListState, OpenedDelta, VersionMeta } from '../../../src/vehicles/list/index.js';
import { advance, buildState, diff, encodeDelta, encodeSnapshot, fileName, openFile, signFile, stateDigest, valueKey } from '../../../src/vehicles/list/index.js';
import { arbBits, arbState, arbStatePair, ISSUED, MINUTE, refusal } from './helpers.js';

const hub = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const META: VersionMeta = { keyId: 'k1', version: 7, issuedAt: ISSUED, horizonMs: 172_800_000 };

const entries = (s: ListState): Array<[number, string]> => Array.from(s.fps, (fp, i) => [fp, valueKey(s.palette[s.values[i]!]!)]);

function deltaFile(prev: ListState, next: ListState, version = 8, base = 7): Buffer {
  return signFile(encodeDelta(diff(prev, next), { ...META, version, base, bits: next.bits, count: next.fps.length, stateDigest: stateDigest(next) }), hub.privateKey);
}

/** A file whose signed part is `unsigned`, signed by the hub: what a refusal after the signature needs. */
const signed = (unsigned: Buffer): Buffer => signFile(unsigned, hub.privateKey);

function small(): [ListState, ListState] {
  const v = (cls: 'pass' | 'risky', profile = 'standard', validUntil: number | null = null) => ({ cls, validUntil, profile });
  const a = buildState(24, [1, 40, 900, 70_000, 1_000_000].map((fp, i) => ({ fp, value: i === 2 ? v('risky') : v('pass', 'student', ISSUED + i * MINUTE) })));
  const b = buildState(24, [1, 41, 900, 70_000, 2 ** 24 - 1].map((fp, i) => ({ fp, value: i === 3 ? v('risky') : v('pass', 'student', ISSUED + i * MINUTE) })));
  return [a, b];
}

describe('list files', () => {
  it('a snapshot opens to the state it was made from, with its header', () => {
    fc.assert(
      fc.property(arbBits.chain(arbState), (s) => {
        const file = signed(encodeSnapshot(s, META));
        const opened = openFile(file, hub.publicKey, 'k1');
        expect(opened.kind).toBe('snapshot');
        if (opened.kind !== 'snapshot') return;
        expect(entries(opened.state)).toEqual(entries(s));
        expect(opened.state.bits).toBe(s.bits);
        expect(opened.header).toEqual({ format: 1, kind: 'snapshot', keyId: 'k1', version: 7, base: null, issuedAt: ISSUED, horizonMs: 172_800_000, bits: s.bits, count: s.fps.length, stateDigest: stateDigest(s) });
        // The same state gives the same bytes (so the same name) every time.
        expect(fileName(file)).toBe(fileName(signed(encodeSnapshot(opened.state, META))));
      }),
      { numRuns: 200 },
    );
  });

  it('a delta opens and advances the held version to the next one', () => {
    fc.assert(
      fc.property(arbStatePair, ([prev, next]) => {
        const opened = openFile(deltaFile(prev, next), hub.publicKey, 'k1');
        expect(opened.kind).toBe('delta');
        if (opened.kind !== 'delta') return;
        expect(opened.header.base).toBe(7);
        const after = advance(prev, 7, opened);
        expect(entries(after)).toEqual(entries(next));
        expect(stateDigest(after)).toBe(opened.header.stateDigest);
      }),
      { numRuns: 200 },
    );
  });

  it('flipping any bit of any byte is refused: the kind bytes as not a list file, anything else by the signature', () => {
    const [a, b] = small();
    for (const file of [signed(encodeSnapshot(a, META)), deltaFile(a, b)]) {
      expect(refusal(() => openFile(file, hub.publicKey, 'k1'))).toBe('accepted');
      for (let i = 0; i < file.length; i++) {
        for (const bit of [0x01, 0x80]) {
          const bad = Buffer.from(file);
          bad[i]! ^= bit;
          expect([i, refusal(() => openFile(bad, hub.publicKey, 'k1'))]).toEqual([i, i < 6 ? 'malformed' : 'signature']);
        }
      }
    }
  });

  it('a truncated or extended file is refused', () => {
    const [a] = small();
    const file = signed(encodeSnapshot(a, META));
    for (const n of [0, 5, 20, 75, file.length - 65, file.length - 1]) expect(refusal(() => openFile(file.subarray(0, n), hub.publicKey, 'k1'))).not.toBe('accepted');
    expect(refusal(() => openFile(Buffer.concat([file, Buffer.of(0)]), hub.publicKey, 'k1'))).toBe('signature');
    expect(refusal(() => openFile(file.subarray(0, file.length - 1), hub.publicKey, 'k1'))).toBe('signature');
    expect(refusal(() => openFile(file.subarray(0, 30), hub.publicKey, 'k1'))).toBe('malformed');
  });

  it('another hub key is refused by the signature; another list key as a mismatch', () => {
    const [a] = small();
    const file = signed(encodeSnapshot(a, META));
    expect(refusal(() => openFile(file, other.publicKey, 'k1'))).toBe('signature');
    expect(refusal(() => openFile(signFile(encodeSnapshot(a, META), other.privateKey), hub.publicKey, 'k1'))).toBe('signature');
    expect(refusal(() => openFile(file, hub.publicKey, 'k2'))).toBe('mismatch');
    expect(refusal(() => openFile(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'k1'))).toBe('signature');
  });

  it('a delta for another version or fingerprint length is a mismatch; one whose result is not its header\'s state is tampered', () => {
    const [a, b] = small();
    const opened = openFile(deltaFile(a, b), hub.publicKey, 'k1') as OpenedDelta;
    expect(refusal(() => advance(a, 6, opened))).toBe('mismatch');
    expect(refusal(() => advance(buildState(25, []), 7, opened))).toBe('mismatch');
    // Applied to another state held at "version 7": the digest tells.
    const wrongBase = buildState(24, [{ fp: 3, value: { cls: 'pass', validUntil: null, profile: 'standard' } }]);
    expect(refusal(() => advance(wrongBase, 7, opened))).toBe('tampered');
    // A header that names another result, signed by the hub (a hub bug, not an attacker): still refused.
    const lying = signed(encodeDelta(diff(a, b), { ...META, version: 8, base: 7, bits: 24, count: b.fps.length, stateDigest: stateDigest(a) }));
    expect(refusal(() => advance(a, 7, openFile(lying, hub.publicKey, 'k1') as OpenedDelta))).toBe('tampered');
  });

  it('a signed snapshot whose content is not its header\'s state is tampered; a signed file that does not decode is malformed', () => {
    const [a, b] = small();
    const good = encodeSnapshot(a, META);
    const other = encodeSnapshot(b, META);
    // a's header with b's body: the lengths differ by nothing but the header's digest and count agree with a.
    const headerEnd = 10 + good.readUInt32BE(6);
    const swapped = Buffer.concat([good.subarray(0, headerEnd), other.subarray(10 + other.readUInt32BE(6))]);
    expect(refusal(() => openFile(signed(swapped), hub.publicKey, 'k1'))).toBe('tampered');
    expect(refusal(() => openFile(signed(Buffer.concat([good, Buffer.of(0)])), hub.publicKey, 'k1'))).toBe('malformed');
    expect(refusal(() => openFile(signed(good.subarray(0, good.length - 3)), hub.publicKey, 'k1'))).toBe('malformed');
    // A header that is not JSON, or not a list header, under a valid signature.
    const header = (text: string) => Buffer.concat([good.subarray(0, 6), Buffer.from([0, 0, 0, Buffer.byteLength(text)]), Buffer.from(text), good.subarray(headerEnd)]);
    expect(refusal(() => openFile(signed(header('{"format":1')), hub.publicKey, 'k1'))).toBe('malformed');
    const h = JSON.parse(good.subarray(10, headerEnd).toString()) as Record<string, unknown>;
    for (const change of [{ kind: 'delta' }, { format: 2 }, { bits: 53 }, { base: 3 }, { version: 0 }, { stateDigest: 'x' }, { extra: 1 }]) {
      expect(refusal(() => openFile(signed(header(JSON.stringify({ ...h, ...change }))), hub.publicKey, 'k1'))).toBe('malformed');
    }
    // A header length past the end, signed.
    const long = Buffer.from(good);
    long.writeUInt32BE(good.length, 6);
    expect(refusal(() => openFile(signed(long), hub.publicKey, 'k1'))).toBe('malformed');
  });

  it('the hub refuses to encode a header no vehicle would accept', () => {
    const [a, b] = small();
    for (const meta of [{ ...META, keyId: 'K 1' }, { ...META, version: 0 }, { ...META, horizonMs: 0 }, { ...META, issuedAt: 1.5 }]) expect(() => encodeSnapshot(a, meta)).toThrow(RangeError);
    expect(() => encodeDelta(diff(a, b), { ...META, base: 7, bits: 24, count: 5, stateDigest: 'nope' })).toThrow(RangeError);
    // States and deltas a vehicle could not decode or would decode to something else.
    expect(() => encodeSnapshot({ ...a, fps: a.fps.slice().reverse() }, META)).toThrow(RangeError);
    expect(() => encodeSnapshot({ ...a, bits: 10 }, META)).toThrow(RangeError);
    expect(() => encodeSnapshot({ ...a, values: a.values.map(() => a.palette.length) }, META)).toThrow(RangeError);
    const d = diff(a, b);
    expect(() => encodeDelta({ ...d, upserted: d.upserted.slice().reverse() }, { ...META, base: 6, bits: 24, count: 5, stateDigest: stateDigest(b) })).toThrow(RangeError);
    expect(() => encodeDelta(d, { ...META, base: 6, bits: 19, count: 5, stateDigest: stateDigest(b) })).toThrow(RangeError);
  });

  it('names a file by the sha256 of its bytes', () => {
    expect(fileName(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.hgvl');
  });
});
