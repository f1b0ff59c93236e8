import { createHmac, hkdfSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HesGateError } from '../../../src/errors.js';
import { bitsFor, ListKey } from '../../../src/vehicles/list/index.js';

const SECRET = Buffer.alloc(32, 7);
const FILE = `# the test's list key\n\nk1:${SECRET.toString('base64')}\n`;

/** The fingerprint as written from its definition, with createHmac (list-key.ts writes HMAC out by hand). */
function reference(id: string, bits: number): number {
  const mac = Buffer.from(hkdfSync('sha256', SECRET, Buffer.from('hes-gate list key'), Buffer.from('vehicle-list'), 32));
  const d = createHmac('sha256', mac).update(`card:${id}`).digest();
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(d[i]!);
  return Number(v >> BigInt(64 - bits));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as HesGateError).code;
  }
  return undefined;
}

describe('ListKey', () => {
  it('reads a key file with comments and names its key id', () => {
    expect(ListKey.parse(FILE).keyId).toBe('k1');
  });

  it('fingerprints are the first bits of HMAC-SHA256 under the HKDF-derived key, for every length', () => {
    const key = ListKey.parse(FILE);
    fc.assert(
      fc.property(fc.stringMatching(/^(?:[0-9A-F]{2}){4,20}$/), fc.integer({ min: 1, max: 52 }), (id, bits) => {
        const fp = key.fingerprint(id, bits);
        expect(fp).toBe(reference(id, bits));
        expect(Number.isSafeInteger(fp) && fp >= 0 && fp < 2 ** bits).toBe(true);
      }),
      { numRuns: 500 },
    );
    // Longer than the key's block: the slow path gives the same bytes.
    const long = 'AB'.repeat(200);
    expect(key.fingerprint(long, 52)).toBe(reference(long, 52));
  });

  it('another key gives other fingerprints', () => {
    const other = ListKey.parse(`k1:${Buffer.alloc(32, 8).toString('base64')}`);
    expect(other.fingerprint('04A1B2C3D4', 52)).not.toBe(ListKey.parse(FILE).fingerprint('04A1B2C3D4', 52));
  });

  it('refuses malformed files with HG_CONFIG_INVALID and never echoes the key', () => {
    const secret = SECRET.toString('base64');
    for (const text of ['', '# only a comment\n', `k1:${secret.slice(4)}`, `K1:${secret}`, `k1 ${secret}`, `k1:${secret}\nk2:${secret}`]) {
      let err: unknown;
      try {
        ListKey.parse(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HesGateError);
      expect((err as HesGateError).code).toBe('HG_CONFIG_INVALID');
      expect((err as Error).message).not.toContain(secret.slice(4, 20));
    }
    expect(() => ListKey.parse('k1:short')).toThrow(/line 1/);
  });

  it('load: a missing file is HG_CONFIG_FILE; a written one loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'list-key-'));
    await expect(ListKey.load(join(dir, 'absent'))).rejects.toMatchObject({ code: 'HG_CONFIG_FILE' });
    await expect(ListKey.load(join(dir, 'absent'), 'vehicle.listKeyFile')).rejects.toMatchObject({ code: 'HG_CONFIG_FILE', details: { key: 'vehicle.listKeyFile' } });
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'k1:nope\n', { mode: 0o600 });
    await expect(ListKey.load(bad, 'vehicles.listKeyFile')).rejects.toMatchObject({ code: 'HG_CONFIG_INVALID', details: { key: 'vehicles.listKeyFile' } });
    const file = join(dir, 'list-key');
    writeFileSync(file, ListKey.generate('bus-1'), { mode: 0o600 });
    expect((await ListKey.load(file)).keyId).toBe('bus-1');
  });

  it('generate: a key file that parses, a new secret each time; a bad key id is refused', () => {
    const a = ListKey.generate('k9');
    expect(ListKey.parse(a).keyId).toBe('k9');
    expect(ListKey.parse(a).fingerprint('04A1B2C3D4', 40)).not.toBe(ListKey.parse(ListKey.generate('k9')).fingerprint('04A1B2C3D4', 40));
    expect(ListKey.parse(ListKey.generate()).keyId).toMatch(/^vl-[0-9a-f]{6}$/);
    expect(codeOf(() => ListKey.generate('No Good'))).toBe('HG_CONFIG_INVALID');
  });

  it('refuses fingerprint lengths outside 1–52', () => {
    const key = ListKey.parse(FILE);
    for (const bits of [0, 53, 40.5]) expect(() => key.fingerprint('04A1B2C3D4', bits)).toThrow(RangeError);
  });
});

describe('bitsFor', () => {
  it('keeps a false match at most 1e-6 after the list doubles, sizing small lists as 1,024 cards, capped at 52', () => {
    for (const count of [0, 1, 1024, 5000, 100_000, 1_000_000, 8_000_000, 2 ** 40]) {
      const bits = bitsFor(count);
      const n = Math.max(count, 1024);
      if (bits < 52) {
        expect((2 * n) / 2 ** bits).toBeLessThanOrEqual(1e-6);
        // And no longer than needed: one bit fewer would not hold.
        expect((2 * n) / 2 ** (bits - 1)).toBeGreaterThan(1e-6);
      } else expect(bits).toBe(52);
    }
    expect([bitsFor(0), bitsFor(1_000_000), bitsFor(8_000_000)]).toEqual([31, 41, 44]);
  });
});
