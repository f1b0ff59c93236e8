/** The digest tree's arithmetic, and the city key's MACs (written out with one-shot hashes) against node:crypto's HMAC. */
import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CityKey } from '../../../src/city/city-key.js';
import { childrenOf, DigestTree, leafIndex, LEAVES, xorHex, ZERO } from '../../../src/city/reconcile/digest-tree.js';
import { compareLeaves, type LeafDiff } from '../../../src/city/reconcile/reconciler.js';

describe('the digest tree', () => {
  it('XORs tags into leaves and nodes: order does not matter, a tag twice cancels', () => {
    const a = new DigestTree();
    const b = new DigestTree();
    const items: Array<[string, string]> = [['AAAx', '0123456789abcdef'], ['AAB-', 'fedcba9876543210'], ['_z9q', 'ffffffff00000001']];
    for (const [f, t] of items) a.add(f, t);
    for (const [f, t] of [...items].reverse()) b.add(f, t);
    expect(a.node('')).toBe(b.node(''));
    expect(a.node('')).toBe(xorHex(xorHex('0123456789abcdef', 'fedcba9876543210'), 'ffffffff00000001'));
    expect(a.node('A')).toBe(xorHex('0123456789abcdef', 'fedcba9876543210'));
    expect(a.node('AAA')).toBe('0123456789abcdef');
    expect(a.node('_z9')).toBe('ffffffff00000001');
    b.add('AAAx', '0123456789abcdef');
    expect(b.node('AAA')).toBe(ZERO);
    expect(childrenOf('ab')).toHaveLength(64);
    expect(leafIndex('___')).toBe(LEAVES - 1);
    expect(leafIndex('AAA')).toBe(0);
    expect(leafIndex('A.A')).toBe(-1);
  });

  it('compares two leaves: rows only here, fields only there, tags that differ', () => {
    const row = (field: string, tag: string) => ({ cardId: `C${field}`, hesCode: 'H', profile: 'p', field, tag });
    const local = new Map([[0, [row('AAA1', '1'.repeat(16)), row('AAA2', '2'.repeat(16)), row('AAA3', '3'.repeat(16))]]]);
    const remote = new Map([['AAA1', '1'.repeat(16)], ['AAA2', '9'.repeat(16)], ['AAA4', '4'.repeat(16)]]);
    const d: LeafDiff = compareLeaves(local, remote);
    expect(d.onlyLocal.map((r) => r.field).sort()).toEqual(['AAA2', 'AAA3']);
    expect([...d.onlyRemote].sort()).toEqual(['AAA2', 'AAA4']);
  });
});

describe('the city key\'s MACs', () => {
  it('are HMAC-SHA256 under the derived MAC key, as before', () => {
    const line = CityKey.generateLine('k1');
    const key = CityKey.parse(line);
    const secret = Buffer.from(line.slice(3), 'base64');
    const macKey = Buffer.from(hkdfSync('sha256', secret, Buffer.from('hes-gate city key'), Buffer.from('mac'), 32));
    expect(key.mac('card', '04A1B2C3D4')).toBe(createHmac('sha256', macKey).update('card:04A1B2C3D4').digest().subarray(0, 16).toString('base64url'));
    expect(key.tag('fieldX', 'A1B2C3D4E5', 'student')).toBe(createHmac('sha256', macKey).update('binding:fieldX\nA1B2C3D4E5\nstudent').digest().subarray(0, 8).toString('hex'));
  });

  it('give the same bytes for any message length and alphabet, call after call (the block kept with the key is reused), and as tree words', () => {
    const line = CityKey.generateLine('k1');
    const key = CityKey.parse(line);
    const macKey = Buffer.from(hkdfSync('sha256', Buffer.from(line.slice(3), 'base64'), Buffer.from('hes-gate city key'), Buffer.from('mac'), 32));
    const hmac = (m: string): Buffer => createHmac('sha256', macKey).update(m).digest();
    const words = new Uint32Array(2);
    const byHex = new DigestTree();
    const byWords = new DigestTree();
    // Long after short after long: a message past the block (> 1,024 bytes) and one that shrinks back.
    for (const id of ['04A1', 'ç'.repeat(600), 'Ğüş-04', 'x'.repeat(340), 'x'.repeat(342), '', '04A1']) {
      const field = key.mac('card', id);
      expect(field).toBe(hmac(`card:${id}`).subarray(0, 16).toString('base64url'));
      const tag = key.tag(field, `H${id}`, 'standard');
      expect(tag).toBe(hmac(`binding:${field}\nH${id}\nstandard`).subarray(0, 8).toString('hex'));
      key.tagWords(field, `H${id}`, 'standard', words, 0);
      byHex.add(field, tag);
      byWords.addWords(leafIndex(field), words[0]!, words[1]!);
    }
    expect(byWords.node('')).toBe(byHex.node(''));
    expect(byWords.count).toBe(byHex.count);
  });
});
