import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isHesGateError } from '../../src/errors.js';
import { parseStationGates, STATION_BACKSTOP_MS } from '../../src/devices/config.js';
import { loadProfiles, type ReaderProfile } from '../../src/config/device-profiles.js';
import { decodeFrame } from '../../src/devices/reader.js';
import { encodeTap } from '../../src/devices/tap-simulator.js';
import { createFramer } from '../../src/devices/framing/index.js';

const profiles = loadProfiles('devices');

function reader(name: string): ReaderProfile {
  const p = profiles.readers.get(name);
  if (!p) throw new Error(`no profile ${name}`);
  return p;
}

/** Run bytes through the profile's own framer and decoder, as the station does. */
function readBack(profile: ReaderProfile, bytes: Buffer): ReturnType<typeof decodeFrame>[] {
  let silence: (() => void) | undefined;
  const timers = { setTimeout: (fn: () => void) => (silence = fn), clearTimeout: () => (silence = undefined) };
  const framer = createFramer(profile.framing, { timers });
  const out: ReturnType<typeof decodeFrame>[] = [];
  framer.on('data', (frame: Buffer) => out.push(decodeFrame(profile, frame)));
  framer.write(bytes);
  silence?.();
  return out;
}

describe('shipped profiles', () => {
  it('all load and validate', () => {
    expect([...profiles.readers.keys()].sort()).toEqual(['hex-uid', 'honeywell-qr', 'rdm6300', 'silence-qr', 'wiegand-decimal', 'wiegand26-hex']);
    expect([...profiles.gates.keys()].sort()).toEqual(['modbus-relay', 'text-gate']);
  });

  const cards: Array<[string, string, string]> = [
    ['rdm6300', '0A007186A6', '\x020A007186A6' + (0x0a ^ 0x71 ^ 0x86 ^ 0xa6).toString(16).toUpperCase() + '\x03'],
    ['hex-uid', '04A1B2C3D4E5F6', '04A1B2C3D4E5F6\r\n'],
    ['wiegand26-hex', '0012ABCD', '12ABCD\r'],
    ['wiegand-decimal', '7186A61E', `${0x7186a61e}`.padStart(10, '0') + '\r\n'],
  ];
  it.each(cards)('%s: encodeTap sends what the reader sends, and it reads back to the canonical id', (name, id, wire) => {
    const profile = reader(name);
    expect(encodeTap(profile, 'card', id).toString('latin1')).toBe(wire);
    expect(readBack(profile, Buffer.from(wire, 'latin1'))).toEqual([{ kind: 'card', value: id }]);
  });

  it.each(['honeywell-qr', 'silence-qr'])('%s: a QR with an AIM prefix reads back without it', (name) => {
    const profile = reader(name);
    const bytes = encodeTap(profile, 'qr', 'HC1:PAYLOAD/1');
    expect(bytes.toString('latin1').startsWith(']Q1HC1:PAYLOAD/1')).toBe(true);
    expect(readBack(profile, bytes)).toEqual([{ kind: 'qr', value: 'HC1:PAYLOAD/1' }]);
  });
});

describe('QR decoding', () => {
  const qr = reader('honeywell-qr');
  it('rejects a non-QR symbology when an AIM prefix says so', () => {
    expect(decodeFrame(qr, Buffer.from(']C0123456'))).toEqual({ kind: 'rejected', why: 'symbology' });
    expect(decodeFrame(qr, Buffer.from(']E04006381333931'))).toEqual({ kind: 'rejected', why: 'symbology' });
  });
  it('accepts a payload without a prefix when the prefix is optional, and keeps GS inside', () => {
    expect(decodeFrame(qr, Buffer.from('A\x1dB'))).toEqual({ kind: 'qr', value: 'A\x1dB' });
  });
  it('rejects control characters (a QR split by its own CR LF arrives broken)', () => {
    expect(decodeFrame(qr, Buffer.from('AB\x00C'))).toEqual({ kind: 'rejected', why: 'format' });
  });
  it('requires the prefix when the profile says required', () => {
    const strict: ReaderProfile = { ...qr, qr: { ...(qr.credential === 'qr' ? qr.qr : ({} as never)), aimPrefix: 'required' } } as ReaderProfile;
    expect(decodeFrame(strict, Buffer.from('ABC'))).toEqual({ kind: 'rejected', why: 'symbology' });
    expect(decodeFrame(strict, Buffer.from(']Q1ABC'))).toEqual({ kind: 'qr', value: 'ABC' });
  });
});

describe('profile validation', () => {
  function loadOne(json: unknown): unknown {
    const dir = mkdtempSync(join(tmpdir(), 'hg-profiles-'));
    writeFileSync(join(dir, 'bad.json'), typeof json === 'string' ? json : JSON.stringify(json));
    try {
      loadProfiles(dir);
    } catch (err) {
      return err;
    }
    return undefined;
  }
  const good = JSON.parse(JSON.stringify({ ...reader('hex-uid'), kind: 'reader' })) as Record<string, unknown>;
  delete good.name;
  delete good.file;

  it('names the file, the key and what was expected', () => {
    const err = loadOne({ ...good, line: { baudRate: 'fast' } });
    expect(isHesGateError(err, 'HG_PROFILE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/bad\.json: "line\.baudRate" is "fast"; expected an integer/);
  });
  it.each([
    ['an unknown framing', { ...good, framing: { type: 'magic', maxLength: 4 } }, 'framing.type'],
    ['no card lengths', { ...good, card: { encoding: 'hex', lengths: [] } }, 'card.lengths'],
    ['a QR reader without qr', { ...good, credential: 'qr' }, 'qr'],
    ['an unknown key', { ...good, colour: 'red' }, 'colour'],
    ['a pulse without pulseMs', { kind: 'gate', protocol: 'modbus-rtu', line: { baudRate: 9600 }, open: { coil: 0 } }, 'open.pulseMs'],
    ['broken JSON', '{not json', undefined],
  ])('rejects %s', (_label, json, key) => {
    const err = loadOne(json);
    expect(isHesGateError(err, 'HG_PROFILE_INVALID')).toBe(true);
    if (key) expect((err as { details: { key: string } }).details.key).toBe(key);
  });
});

describe('gates.list devices', () => {
  const gate = { id: 'G1', group: 'north', reader: { path: '/dev/ttyUSB0', profile: 'hex-uid' }, controller: { path: '/dev/ttyUSB9', profile: 'modbus-relay', openCoil: 2 } };
  const message = (list: unknown[]): string => {
    try {
      parseStationGates(list, profiles);
    } catch (err) {
      expect(isHesGateError(err, 'HG_CONFIG_INVALID')).toBe(true);
      return (err as Error).message;
    }
    throw new Error('expected HG_CONFIG_INVALID');
  };
  it('normalises a single reader to readers[] with an id, adds the station backstop to the deadline, and freezes', () => {
    const [g] = parseStationGates([gate], profiles);
    expect(g?.readers).toEqual([{ id: 'G1/reader', path: '/dev/ttyUSB0', profile: 'hex-uid' }]);
    expect(g?.deadlineMs).toBe(150 + STATION_BACKSTOP_MS);
    expect(Object.isFrozen(g)).toBe(true);
  });
  it('refuses with a coded error naming the key', () => {
    expect(message([{ ...gate, reader: { path: '/x', profile: 'nope' } }])).toMatch(/gates\.list\[0\]\.reader\.profile .* must be a reader profile in devices\/ .*got "nope"/);
    expect(message([gate, { ...gate, id: '' }])).toMatch(/gates\.list\[1\]\.id/);
    expect(message([{ ...gate, reader: '/dev/ttyUSB0' }])).toMatch(/gates\.list\[0\]\.reader .* must be a reader object/);
    expect(message([{ ...gate, controller: { ...gate.controller, unit: 999 } }])).toMatch(/gates\.list\[0\]\.controller\.unit .* must be an integer from 1 to 247/);
  });
  it('rejects a port used twice by readers, Modbus keys on a text gate, and duplicate gate ids', () => {
    expect(message([gate, { ...gate, id: 'G2' }])).toMatch(/used by one reader/);
    expect(message([{ ...gate, controller: { path: '/c', profile: 'text-gate', unit: 2 } }])).toMatch(/not a Modbus profile/);
    expect(message([gate, { ...gate, reader: { path: '/other', profile: 'hex-uid' } }])).toMatch(/gates\.list\[1\]\.id .* must be unique among gates/);
  });
});
