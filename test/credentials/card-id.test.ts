/** The card id rules, tested once, where they live: validators' defaults and reader profiles' rules. */
import { describe, expect, it } from 'vitest';
import { CARD_ID_PATTERN, canonicalCardId, encodeCardId, type CardIdRules } from '../../src/credentials/card-id.js';
import { loadProfiles } from '../../src/config/device-profiles.js';

describe('canonicalCardId with the validator rules (HTTP, admin API, import)', () => {
  const id = (text: string) => {
    const r = canonicalCardId(text);
    return r.ok ? r.id : r.why;
  };

  it('accepts separators and any case, returns upper-case hex', () => {
    expect(id('04:a1:b2:c3')).toBe('04A1B2C3');
    expect(id('04-A1-b2-C3-d4-e5-f6')).toBe('04A1B2C3D4E5F6');
    expect(id(' 04 a1 b2 c3 ')).toBe('04A1B2C3');
    expect(id('04.a1.b2.c3')).toBe('04A1B2C3');
    expect(id('04A1B2C3')).toBe('04A1B2C3');
  });

  it('requires 4 to 20 bytes, an even number of hex digits', () => {
    expect(id('04A1B2')).toBe('length'); // 3 bytes
    expect(id('04A1B2C')).toBe('format'); // odd
    expect(id('A'.repeat(40))).toBe('A'.repeat(40));
    expect(id('A'.repeat(42))).toBe('length');
    expect(id('04A1B2G3')).toBe('format');
    expect(id('04_A1_B2_C3')).toBe('format');
    expect(id('')).toBe('format');
    expect(id(':'.repeat(500))).toBe('length');
    expect(id(':'.repeat(50))).toBe('format');
  });
});

describe('canonicalCardId with a reader profile\'s rules', () => {
  const base: CardIdRules = { encoding: 'hex', byteOrder: 'msb-first', lengths: [4, 7] };

  it('upper-cases hex and strips separators', () => {
    expect(canonicalCardId('71:86:a6:1e', base)).toEqual({ ok: true, id: '7186A61E' });
  });

  it('reverses an lsb-first reader to the same canonical id', () => {
    expect(canonicalCardId('1EA68671', { ...base, byteOrder: 'lsb-first' })).toEqual({ ok: true, id: '7186A61E' });
    expect(encodeCardId('7186A61E', { ...base, byteOrder: 'lsb-first' })).toBe('1EA68671');
  });

  it('turns a decimal id into hex and pads it to its byte width', () => {
    const dec: CardIdRules = { encoding: 'decimal', byteOrder: 'msb-first', padToBytes: 4, lengths: [4] };
    expect(canonicalCardId('0000001234', dec)).toEqual({ ok: true, id: '000004D2' });
    expect(canonicalCardId('99999999999', dec)).toEqual({ ok: false, why: 'length' });
    expect(canonicalCardId('12AB', dec)).toEqual({ ok: false, why: 'format' });
    const lsb: CardIdRules = { ...dec, byteOrder: 'lsb-first' };
    expect(canonicalCardId(String(0x1ea68671), lsb)).toEqual({ ok: true, id: '7186A61E' });
    expect(encodeCardId('7186A61E', { ...lsb, digits: 10 })).toBe(String(0x1ea68671).padStart(10, '0'));
  });

  it('rejects bad lengths and non-hex', () => {
    expect(canonicalCardId('7186A6', base)).toEqual({ ok: false, why: 'length' });
    expect(canonicalCardId('7186A6G1', base)).toEqual({ ok: false, why: 'format' });
    expect(canonicalCardId('7186A61', base)).toEqual({ ok: false, why: 'format' });
    expect(canonicalCardId('12ABC', { ...base, digits: 6 })).toEqual({ ok: false, why: 'length' });
    expect(canonicalCardId('7186A61E', { ...base, digits: 6 })).toEqual({ ok: false, why: 'length' });
  });

  it('every shipped card profile round-trips its own encoding', () => {
    const profiles = loadProfiles('devices');
    const ids: Record<string, string> = { 'hex-uid': '04A1B2C3D4E5F6', rdm6300: '0A007186A6', 'wiegand26-hex': '0012ABCD', 'wiegand-decimal': '7186A61E' };
    for (const [name, canonical] of Object.entries(ids)) {
      const p = profiles.readers.get(name);
      if (p?.credential !== 'card') throw new Error(`${name} is not a card profile`);
      expect(canonicalCardId(encodeCardId(canonical, p.card), p.card), name).toEqual({ ok: true, id: canonical });
    }
  });
});

describe('the canonical card id pattern (the city wire and the API schema use it)', () => {
  it('accepts exactly the ids canonicalCardId returns unchanged: whole bytes, 4 to 20 of them', () => {
    for (let digits = 1; digits <= 44; digits++) {
      const id = 'A1B2C3D4E5F60718293A4B5C6D7E8F9001122334455'.slice(0, digits);
      const canonical = canonicalCardId(id);
      expect(CARD_ID_PATTERN.test(id), `${digits} digits`).toBe(canonical.ok && canonical.id === id);
    }
    expect(CARD_ID_PATTERN.test('a1b2c3d4')).toBe(false);
    expect(CARD_ID_PATTERN.test('A1B2C3D')).toBe(false);
  });
});
