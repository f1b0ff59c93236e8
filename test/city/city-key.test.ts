import { describe, expect, it } from 'vitest';
import { CityKey } from '../../src/city/city-key.js';
import { CityWire } from '../../src/city/wire.js';
import { cityKeyspace } from '../../src/city/keyspace.js';
import { isHesGateError } from '../../src/errors.js';

const line = CityKey.generateLine('k1');

describe('the city key', () => {
  it('seals values that open only under the same key and place, and keys that hide the value', () => {
    const key = CityKey.parse(`# the city of test\n${line}\n`);
    const sealed = key.seal('HES1234567', 'hg:k1:changes');
    expect(sealed).not.toContain('HES1234567');
    expect(key.open(sealed, 'hg:k1:changes')).toBe('HES1234567');
    expect(key.open(sealed, 'hg:k1:lookups')).toBeUndefined();
    expect(key.open(sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA'), 'hg:k1:changes')).toBeUndefined();
    const other = CityKey.parse(CityKey.generateLine('k1'));
    expect(other.open(sealed, 'hg:k1:changes')).toBeUndefined();
    const mac = key.mac('code', 'HES1234567');
    expect(mac).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(key.mac('card', 'HES1234567')).not.toBe(mac);
    expect(other.mac('code', 'HES1234567')).not.toBe(mac);
  });

  it('opens values sealed under an older key listed after the current one', () => {
    const old = CityKey.parse(line);
    const sealed = old.seal('x', 'w');
    const rotated = CityKey.parse(`${CityKey.generateLine('k2')}\n${line}`);
    expect(rotated.kid).toBe('k2');
    expect(rotated.open(sealed, 'w')).toBe('x');
  });

  it('refuses a malformed key file with a coded error that names the line, not its content', () => {
    for (const text of ['', '# only a comment', 'k1:short', 'K!:' + line.split(':')[1], `${line}\n${line}`]) {
      let err: unknown;
      try {
        CityKey.parse(text);
      } catch (e) {
        err = e;
      }
      expect(isHesGateError(err) && err.code === 'HG_CITY_KEY').toBe(true);
      expect(String((err as Error).message)).not.toContain(line.split(':')[1]!.slice(0, 10));
    }
  });
});

describe('the city wire format', () => {
  const key = CityKey.parse(line);
  const wire = new CityWire(key, cityKeyspace(key.kid));

  it('round-trips each kind of entry and drops what does not open or parse', () => {
    const b = wire.bindingsEntry({ put: [{ cardId: '04A1B2C3D4', hesCode: 'HES1234567', profile: 'standard' }], del: ['0A0B0C0D'] }, 'hub-1');
    expect(b.join(' ')).not.toContain('04A1B2C3D4');
    expect(wire.changeEntry(b)).toEqual({ type: 'bindings', src: 'hub-1', changes: { put: [{ cardId: '04A1B2C3D4', hesCode: 'HES1234567', profile: 'standard' }], del: ['0A0B0C0D'] } });
    const s = wire.statusesEntry({ at: 5, answers: [['HES1234567', { kind: 'status', status: 'RISKY', expiresAt: 9 }]], checked: { after: null, through: 'HES1234567' } }, 'hub-1', 7);
    expect(wire.changeEntry(s)).toMatchObject({ type: 'statuses', fence: 7, changes: { at: 5, checked: { after: null, through: 'HES1234567' } } });
    const l = wire.lookupEntry({ at: 1, code: 'HES1234567', answer: { kind: 'not-found' } }, 'st-1');
    expect(wire.lookup(l)).toEqual({ at: 1, code: 'HES1234567', answer: { kind: 'not-found' }, src: 'st-1' });
    expect(wire.changeEntry(['t', 'bindings', 'v', 'g1.k1.AAAA.BBBB'])).toBeUndefined();
    expect(wire.changeEntry(['t', 'other'])).toBeUndefined();
    expect(wire.changeEntry(wire.bindingsEntry({ put: [{ cardId: 'nothex', hesCode: 'HES1234567', profile: 'standard' }], del: [] }, 'h'))).toBeUndefined();
    const [field, value] = wire.statusField({ at: 1, code: 'HES1234567', answer: { kind: 'expired' } });
    expect(wire.status(field, value)).toEqual({ at: 1, code: 'HES1234567', answer: { kind: 'expired' } });
    expect(wire.status('another-field', value)).toBeUndefined();
  });

  it('seals a snapshot binding to its own hash field: moved under another card\'s field, it does not open', () => {
    const a = { cardId: '04A1B2C3D4', hesCode: 'HES1234567', profile: 'standard' };
    const b = { cardId: '04A1B2C3D5', hesCode: 'HES7654321', profile: 'student' };
    const [fieldA, valueA] = wire.bindingField(a);
    const [fieldB, valueB] = wire.bindingField(b);
    expect(wire.binding(fieldA, valueA)).toEqual(a);
    expect(wire.binding(fieldB, valueB)).toEqual(b);
    // Whoever can write the hash could swap two values: each must open only where it was sealed.
    expect(wire.binding(fieldB, valueA)).toBeUndefined();
    expect(wire.binding(fieldA, valueB)).toBeUndefined();
  });
});
