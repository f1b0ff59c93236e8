/**
 * Keys the schema does not know are refused at every level, including the names of
 * Object.prototype's members: a file can never reach an inherited property, and a bad key
 * is one coded error naming it, never a stack trace.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { HesGateError } from '../../src/errors.js';

/** The JSON text as a file would hold it (JSON.parse makes `__proto__` an own key). */
function load(json: string): HesGateError {
  try {
    loadConfig({ env: {}, noFile: true, overrides: JSON.parse(json) as Record<string, unknown> });
  } catch (err) {
    if (err instanceof HesGateError) return err;
    throw err;
  }
  throw new Error(`accepted ${json}`);
}

const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const reader = '{"path":"/dev/ttyUSB0","profile":"hex-uid"}';
const controller = '{"path":"/dev/ttyUSB9","profile":"modbus-relay"}';

describe('unknown keys', () => {
  const places: Array<[string, (k: string) => string, (k: string) => string]> = [
    ['the top level', (k) => `{"${k}":{}}`, (k) => k],
    ['a section', (k) => `{"server":{"${k}":1}}`, (k) => `server.${k}`],
    ['gates', (k) => `{"gates":{"${k}":1}}`, (k) => `gates.${k}`],
    ['gates.defaults', (k) => `{"gates":{"defaults":{"${k}":1}}}`, (k) => `gates.defaults.${k}`],
    ['a gate', (k) => `{"gates":{"list":[{"id":"G1","${k}":1}]}}`, (k) => `gates.list[0].${k}`],
    ['a gate policy', (k) => `{"gates":{"list":[{"id":"G1","policy":{"${k}":1}}]}}`, (k) => `gates.list[0].policy.${k}`],
    ['a reader', (k) => `{"gates":{"list":[{"id":"G1","reader":{"path":"/dev/ttyUSB0","profile":"hex-uid","${k}":1}}]}}`, (k) => `gates.list[0].reader.${k}`],
    ['a controller', (k) => `{"gates":{"list":[{"id":"G1","controller":{"path":"/dev/ttyUSB9","profile":"modbus-relay","${k}":1}}]}}`, (k) => `gates.list[0].controller.${k}`],
    ['profile hours', (k) => `{"gates":{"defaults":{"profileHours":{"senior":[{"from":"10:00","to":"16:00","${k}":1}]}}}}`, () => 'gates.defaults.profileHours'],
  ];
  for (const [where, json, key] of places) {
    it.each(PROTO_KEYS)(`"%s" in ${where} is refused with HG_CONFIG_INVALID naming it`, (k) => {
      const err = load(json(k));
      expect(err.code).toBe('HG_CONFIG_INVALID');
      expect(err.details?.['key']).toBe(key(k));
    });
  }

  // profileHours is a map keyed by card profile: its keys are not settings, but they must be
  // names a binding can carry. Those that are not (every prototype member but `constructor`, which
  // is a plain lower-case word) could never match a card and are refused.
  it.each(['__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'Senior', ''])('a profileHours key "%s" (no card profile can be it) is refused', (k) => {
    const err = load(`{"gates":{"defaults":{"profileHours":{"${k}":[{"from":"10:00","to":"16:00"}]}}}}`);
    expect(err.code).toBe('HG_CONFIG_INVALID');
    expect(err.details?.['key']).toBe('gates.defaults.profileHours');
    const perGate = load(`{"gates":{"list":[{"id":"G1","policy":{"profileHours":{"${k}":[{"from":"10:00","to":"16:00"}]}}}]}}`);
    expect(perGate.details?.['key']).toBe('gates.list[0].policy.profileHours');
  });

  it('a profileHours key "constructor" is a profile like any other, kept as an own key', () => {
    const { config } = loadConfig({ env: {}, noFile: true, overrides: JSON.parse('{"gates":{"defaults":{"profileHours":{"constructor":[{"from":"10:00","to":"16:00"}]}}}}') });
    expect(Object.hasOwn(config.gates.defaults.profileHours, 'constructor')).toBe(true);
    expect(Object.hasOwn(config.gates.defaults.profileHours, 'toString')).toBe(false);
  });

  it('a valid file with devices still loads (the refusals above are about the keys)', () => {
    const { config } = loadConfig({ env: {}, noFile: true, overrides: JSON.parse(`{"gates":{"list":[{"id":"G1","reader":${reader},"controller":${controller}}]}}`) });
    expect(config.gates.list[0]).toMatchObject({ id: 'G1', readers: [{ id: 'G1/reader' }], controller: { profile: 'modbus-relay' } });
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
  });
});
