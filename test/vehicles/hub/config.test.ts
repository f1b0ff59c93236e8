/** The vehicles.* settings: their defaults, their variables, and what serve refuses about them. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { vehiclesHubProblems as vehicleProblems } from '../../../src/config/start-checks.js';
import { tempDir } from '../../cards/helpers.js';

const hub = { city: { role: 'hub' } };

function problems(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Array<{ code: string; key: unknown; message: string }> {
  const { config } = loadConfig({ noFile: true, overrides, env });
  return vehicleProblems(config).map((e) => ({ code: e.code, key: e.details?.['key'], message: e.message }));
}

describe('vehicles.* settings', () => {
  it('default to off, with the documented values', () => {
    const { config } = loadConfig({ noFile: true, env: {} });
    expect(config.vehicles).toEqual({ enabled: false, listKeyFile: null, signingKeyFile: null, publishDir: null, publishEveryMs: 300_000, snapshotEveryMs: 21_600_000, keepSnapshots: 5, horizonMs: 172_800_000, maxListAgeMs: 21_600_000, mqtt: { url: null, topic: 'hes-gate/vehicle-list', user: null, password: null } });
    expect(vehicleProblems(config)).toEqual([]);
  });

  it('take the notice broker from the file or HES_GATE_VEHICLES_MQTT_*, its password from the environment only, and refuse what is not an mqtt(s) broker or a plain topic', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pw'), 'hub-broker-pass\n');
    const { config } = loadConfig({ noFile: true, overrides: hub, env: { HES_GATE_VEHICLES_MQTT_URL: 'mqtts://broker.example:8883', HES_GATE_VEHICLES_MQTT_USER: 'hub', HES_GATE_VEHICLES_MQTT_PASSWORD_FILE: join(dir, 'pw') } });
    expect(config.vehicles.mqtt).toMatchObject({ url: 'mqtts://broker.example:8883', topic: 'hes-gate/vehicle-list', user: 'hub' });
    expect(config.vehicles.mqtt.password?.reveal()).toBe('hub-broker-pass');
    expect(JSON.stringify(config)).not.toContain('hub-broker-pass');
    const invalid = (mqtt: Record<string, unknown>): string | undefined => {
      try {
        loadConfig({ noFile: true, overrides: { ...hub, vehicles: { mqtt } }, env: {} });
      } catch (err) {
        return `${(err as { code: string }).code} ${String((err as { details?: { key?: string } }).details?.key)}`;
      }
      return undefined;
    };
    expect(invalid({ url: 'mqtt://broker:1883', topic: 'city/vehicle-list' })).toBeUndefined();
    for (const url of ['http://broker:1883', 'ws://broker/mqtt', 'mqtt://hub:secret@broker:1883', 'not a url']) expect(invalid({ url }), url).toBe('HG_CONFIG_INVALID vehicles.mqtt.url');
    for (const topic of ['', 'city/#', 'city/+/list', '$SYS/x']) expect(invalid({ topic }), topic).toBe('HG_CONFIG_INVALID vehicles.mqtt.topic');
    // A password in the file is not a setting: env or its _FILE only.
    expect(invalid({ password: 'x' })).toBe('HG_CONFIG_INVALID vehicles.mqtt.password');
  });

  it('refuse publishing on any role but hub, without its key files, or with a horizon shorter than the list age', () => {
    const dir = tempDir();
    const list = join(dir, 'list-key');
    const signing = join(dir, 'signing-key');
    writeFileSync(list, 'x');
    writeFileSync(signing, 'x');
    const files = { listKeyFile: list, signingKeyFile: signing };
    expect(problems({ ...hub, vehicles: { enabled: true, ...files } })).toEqual([]);
    for (const role of ['standalone', 'station']) {
      expect(problems({ city: { role }, vehicles: { enabled: true, ...files } }).map((p) => p.key)).toEqual(['vehicles.enabled']);
    }
    expect(problems({ ...hub, vehicles: { enabled: true } }).map((p) => [p.code, p.key])).toEqual([
      ['HG_CONFIG_INVALID', 'vehicles.listKeyFile'],
      ['HG_CONFIG_INVALID', 'vehicles.signingKeyFile'],
    ]);
    expect(problems({ ...hub, vehicles: { enabled: true, listKeyFile: join(dir, 'none'), signingKeyFile: signing } }).map((p) => [p.code, p.key])).toEqual([['HG_CONFIG_FILE', 'vehicles.listKeyFile']]);
    expect(problems({ ...hub, vehicles: { enabled: true, ...files, horizonMs: 3_600_000, maxListAgeMs: 7_200_000 } }).map((p) => p.key)).toEqual(['vehicles.horizonMs']);
    expect(problems({ ...hub, vehicles: { enabled: true, ...files, snapshotEveryMs: 60_000, publishEveryMs: 120_000 } }).map((p) => p.key)).toEqual(['vehicles.snapshotEveryMs']);
    // Off, nothing is checked.
    expect(problems({ city: { role: 'station' }, vehicles: { enabled: false, horizonMs: 60_000 } })).toEqual([]);
  });

  it('take the variables, and refuse an unknown key or a bad value naming it', () => {
    const { config } = loadConfig({ noFile: true, env: { HES_GATE_VEHICLES_ENABLED: '1', HES_GATE_VEHICLES_LIST_KEY_FILE: '/etc/hes-gate/list-key', HES_GATE_VEHICLES_SIGNING_KEY_FILE: '/etc/hes-gate/list-signing.pem' } });
    expect(config.vehicles).toMatchObject({ enabled: true, listKeyFile: '/etc/hes-gate/list-key', signingKeyFile: '/etc/hes-gate/list-signing.pem' });
    expect(() => loadConfig({ noFile: true, env: {}, overrides: { vehicles: { publishEvery: 1 } } })).toThrow(/vehicles\.publishEvery .*is not a known setting/);
    expect(() => loadConfig({ noFile: true, env: {}, overrides: { vehicles: { keepSnapshots: 0 } } })).toThrow(/vehicles\.keepSnapshots/);
  });
});
