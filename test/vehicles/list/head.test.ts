import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ListHead } from '../../../src/vehicles/list/index.js';
import { openHead, signHead } from '../../../src/vehicles/list/index.js';
import { refusal } from './helpers.js';

const hub = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const name = (c: string): string => `${c.repeat(64)}.hgvl`;
const HEAD: ListHead = {
  format: 1,
  keyId: 'k1',
  version: 12,
  issuedAt: Date.UTC(2026, 11, 8),
  horizonMs: 172_800_000,
  snapshot: { name: name('a'), bytes: 3_000_000, version: 10, base: null },
  deltas: [
    { name: name('b'), bytes: 40_000, version: 11, base: 10 },
    { name: name('c'), bytes: 41_000, version: 12, base: 11 },
  ],
};

describe('the head', () => {
  it('opens to the head it was signed from; the signature covers the head text as written', () => {
    const text = signHead(HEAD, hub.privateKey);
    expect(openHead(text, hub.publicKey, 'k1')).toEqual(HEAD);
    const parsed = JSON.parse(text) as { head: ListHead; signature: string };
    expect(parsed.head).toEqual(HEAD);
    expect(Buffer.from(parsed.signature, 'base64url')).toHaveLength(64);
  });

  it('any change to the head\'s text, even one JSON ignores, is refused by its signature', () => {
    const text = signHead(HEAD, hub.privateKey);
    expect(refusal(() => openHead(text.replace('"version":12', '"version":13'), hub.publicKey, 'k1'))).toBe('signature');
    expect(refusal(() => openHead(text.replace('"version":12', '"version": 12'), hub.publicKey, 'k1'))).toBe('signature');
    expect(refusal(() => openHead(text.replace('"bytes":40000', '"bytes":4e4'), hub.publicKey, 'k1'))).toBe('signature');
    const sig = text.lastIndexOf('"}') - 3;
    expect(refusal(() => openHead(`${text.slice(0, sig)}${text[sig] === 'A' ? 'B' : 'A'}${text.slice(sig + 1)}`, hub.publicKey, 'k1'))).toBe('signature');
  });

  it('another hub key is refused by the signature, another list key as a mismatch', () => {
    const text = signHead(HEAD, hub.privateKey);
    expect(refusal(() => openHead(text, other.publicKey, 'k1'))).toBe('signature');
    expect(refusal(() => openHead(signHead(HEAD, other.privateKey), hub.publicKey, 'k1'))).toBe('signature');
    expect(refusal(() => openHead(text, hub.publicKey, 'k2'))).toBe('mismatch');
  });

  it('what is not a head file is malformed, even when signed', () => {
    for (const text of ['', '{}', 'null', '{"head":{},"signature":1}', signHead(HEAD, hub.privateKey).slice(0, 40)]) {
      expect(refusal(() => openHead(text, hub.publicKey, 'k1'))).toBe('malformed');
    }
    // Signed by the hub, but its deltas are not one unbroken chain to its version.
    const headText = JSON.stringify({ ...HEAD, deltas: [HEAD.deltas[0], { ...HEAD.deltas[1]!, base: 10 }] });
    const text = `{"head":${headText},"signature":"${sign(null, Buffer.from(headText), hub.privateKey).toString('base64url')}"}`;
    expect(refusal(() => openHead(text, hub.publicKey, 'k1'))).toBe('malformed');
  });

  it('the hub refuses to sign a head whose files do not chain', () => {
    expect(() => signHead({ ...HEAD, version: 13 }, hub.privateKey)).toThrow(RangeError);
    expect(() => signHead({ ...HEAD, deltas: [{ ...HEAD.deltas[0]!, base: 9 }] }, hub.privateKey)).toThrow(RangeError);
    expect(() => signHead({ ...HEAD, snapshot: { ...HEAD.snapshot, name: 'x.hgvl' } }, hub.privateKey)).toThrow(RangeError);
    expect(() => signHead({ ...HEAD, version: 10, deltas: [] }, hub.privateKey)).not.toThrow();
    expect(() => signHead({ ...HEAD, snapshot: { ...HEAD.snapshot, version: 13 } }, hub.privateKey)).toThrow(RangeError);
    // Trimmed for a vehicle holding 11 (the chain starts after the snapshot), or starting before it.
    expect(() => signHead({ ...HEAD, deltas: [HEAD.deltas[1]!] }, hub.privateKey)).not.toThrow();
    expect(() => signHead({ ...HEAD, snapshot: { ...HEAD.snapshot, version: 11 } }, hub.privateKey)).not.toThrow();
  });
});
