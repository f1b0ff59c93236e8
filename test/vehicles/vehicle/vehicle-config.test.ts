/**
 * The vehicle role's configuration: `city.role: "vehicle"` needs its hub's head URL, its token
 * file, the list key file and the hub's public key (32 bytes in base64), and no Redis or city key.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { cityProblems, startProblems, vehicleRoleProblems as vehicleProblems } from '../../../src/config/start-checks.js';
import { HesGateError } from '../../../src/errors.js';

const PUBLIC_KEY = Buffer.alloc(32, 7).toString('base64');

function load(vehicle: Record<string, unknown>, env: Record<string, string> = {}) {
  return loadConfig({ noFile: true, env: { HES_GATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'hg-vcfg-')), ...env }, overrides: { city: { role: 'vehicle' }, vehicle } }).config;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof HesGateError ? `${err.code} ${String((err.details as { key?: string } | undefined)?.key)}` : 'not coded';
  }
  return undefined;
}

describe('vehicle configuration', () => {
  it('names every missing setting of a vehicle, and asks for no Redis or city key', () => {
    const config = load({});
    expect(vehicleProblems(config).map((p) => (p.details as { key: string }).key)).toEqual(['vehicle.headUrl', 'vehicle.publicKey', 'vehicle.tokenFile', 'vehicle.listKeyFile']);
    expect(cityProblems(config)).toEqual([]);
  });

  it('takes a complete vehicle, its token file from HES_GATE_VEHICLE_TOKEN_FILE, and starts with no problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-vcfg-files-'));
    writeFileSync(join(dir, 'token'), 'a-token-of-the-vehicle-123\n');
    writeFileSync(join(dir, 'list.key'), `k1:${Buffer.alloc(32, 1).toString('base64')}\n`);
    const config = load({ headUrl: 'https://hub.example/v1/vehicle-list/head', publicKey: PUBLIC_KEY, listKeyFile: join(dir, 'list.key') }, { HES_GATE_VEHICLE_TOKEN_FILE: join(dir, 'token') });
    expect(config.vehicle).toMatchObject({ tokenFile: join(dir, 'token'), maxListAgeMs: 21_600_000, pollMs: 300_000, uploadEveryMs: 300_000, id: null, filesUrl: null, uploadUrl: null });
    expect(await startProblems(config, { createDataDir: true, lookup: async () => [{ address: '127.0.0.1', family: 4 }] })).toEqual([]);
  });

  it('refuses a token or list key file that cannot be read', () => {
    const config = load({ headUrl: 'https://hub.example/v1/vehicle-list/head', publicKey: PUBLIC_KEY, listKeyFile: '/nonexistent/list.key', tokenFile: '/nonexistent/token' });
    expect(vehicleProblems(config).map((p) => `${p.code} ${(p.details as { key: string }).key}`)).toEqual(['HG_CONFIG_FILE vehicle.tokenFile', 'HG_CONFIG_FILE vehicle.listKeyFile']);
  });

  it('refuses a public key that is not 32 bytes of base64, and a URL that is not http(s)', () => {
    expect(codeOf(() => load({ publicKey: Buffer.alloc(31).toString('base64') }))).toBe('HG_CONFIG_INVALID vehicle.publicKey');
    expect(codeOf(() => load({ publicKey: 'not base64 at all, but forty-four chars long' }))).toBe('HG_CONFIG_INVALID vehicle.publicKey');
    expect(codeOf(() => load({ headUrl: 'ftp://hub.example/head' }))).toBe('HG_CONFIG_INVALID vehicle.headUrl');
    expect(codeOf(() => load({ maxListAgeMs: 10 }))).toBe('HG_CONFIG_INVALID vehicle.maxListAgeMs');
    expect(codeOf(() => load({ id: 'a vehicle' }))).toBe('HG_CONFIG_INVALID vehicle.id');
    expect(codeOf(() => load({ tokne: 'x' }))).toBe('HG_CONFIG_INVALID vehicle.tokne');
  });

  it('takes a notice broker with HES_GATE_VEHICLE_MQTT_* and its own password, a gap of 10 s by default, and refuses another scheme', () => {
    const config = load({}, { HES_GATE_VEHICLE_MQTT_URL: 'mqtt://broker.example:1883', HES_GATE_VEHICLE_MQTT_USER: 'bus-34', HES_GATE_VEHICLE_MQTT_PASSWORD: 'bus-broker-pass' });
    expect(config.vehicle.mqtt).toMatchObject({ url: 'mqtt://broker.example:1883', topic: 'hes-gate/vehicle-list', user: 'bus-34', minPollGapMs: 10_000 });
    expect(config.vehicle.mqtt.password?.reveal()).toBe('bus-broker-pass');
    expect(load({}).vehicle.mqtt).toMatchObject({ url: null, user: null, password: null });
    expect(codeOf(() => load({ mqtt: { url: 'https://broker.example' } }))).toBe('HG_CONFIG_INVALID vehicle.mqtt.url');
    expect(codeOf(() => load({ mqtt: { minPollGapMs: 10 } }))).toBe('HG_CONFIG_INVALID vehicle.mqtt.minPollGapMs');
  });
});
