/**
 * The start checks `serve` and `config check` share: the exposure rule (tokens beyond
 * loopback, unless explicitly overridden), credentials for the ministry's environments, and
 * the data directory (created level by level, 0700; never a hang on /proc).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareDataDir } from '../../src/config/data-dir.js';
import { loadConfig } from '../../src/config/load.js';
import { startProblems, type Lookup } from '../../src/config/start-checks.js';
import { HesGateError } from '../../src/errors.js';
import { NodeKey } from '../../src/city/identity/node-key.js';

const dir = mkdtempSync(join(tmpdir(), 'hes-gate-start-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Names resolve from this table only: no DNS in the test. */
const NAMES: Record<string, string[]> = {
  localhost: ['127.0.0.1', '::1'],
  'station.lan': ['192.168.10.4'],
  'self.lan': ['127.0.1.1'],
};
const lookup: Lookup = async (host) => {
  const addresses = NAMES[host] ?? (/^[\d.:]+$/.test(host) ? [host] : undefined);
  if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

async function codes(env: NodeJS.ProcessEnv, overrides: Record<string, unknown> = {}): Promise<string[]> {
  const { config } = loadConfig({ env: { HES_GATE_DATA_DIR: join(dir, 'data'), ...env }, noFile: true, overrides });
  return (await startProblems(config, { createDataDir: false, lookup })).map((p) => p.code);
}

describe('the exposure rule', () => {
  it.each(['127.0.0.1', '127.0.1.1', '::1', 'localhost', 'self.lan'])('loopback %s needs no token', async (host) => {
    expect(await codes({ HES_GATE_HOST: host })).toEqual([]);
  });

  it.each(['0.0.0.0', '::', '192.168.10.4', 'station.lan'])('%s needs both tokens', async (host) => {
    expect(await codes({ HES_GATE_HOST: host })).toEqual(['HG_EXPOSED_WITHOUT_TOKEN']);
    expect(await codes({ HES_GATE_HOST: host, HES_GATE_API_TOKEN: 'start-checks-api-token' })).toEqual(['HG_EXPOSED_WITHOUT_TOKEN']);
    expect(await codes({ HES_GATE_HOST: host, HES_GATE_ADMIN_TOKEN: 'start-checks-admin-token' })).toEqual(['HG_EXPOSED_WITHOUT_TOKEN']);
    expect(await codes({ HES_GATE_HOST: host, HES_GATE_API_TOKEN: 'start-checks-api-token', HES_GATE_ADMIN_TOKEN: 'start-checks-admin-token' })).toEqual([]);
  });

  it('is lifted only by the explicit override, from the environment or the file', async () => {
    expect(await codes({ HES_GATE_HOST: '0.0.0.0', HES_GATE_ALLOW_UNAUTHENTICATED: '1' })).toEqual([]);
    expect(await codes({ HES_GATE_HOST: '0.0.0.0', HES_GATE_ALLOW_UNAUTHENTICATED: 'true' })).toEqual([]);
    expect(await codes({ HES_GATE_HOST: '0.0.0.0', HES_GATE_ALLOW_UNAUTHENTICATED: '0' })).toEqual(['HG_EXPOSED_WITHOUT_TOKEN']);
    expect(await codes({ HES_GATE_HOST: '0.0.0.0' }, { server: { allowUnauthenticated: true } })).toEqual([]);
    expect(() => loadConfig({ env: { HES_GATE_ALLOW_UNAUTHENTICATED: 'yes' }, noFile: true })).toThrow(/server\.allowUnauthenticated \(env HES_GATE_ALLOW_UNAUTHENTICATED\) must be true or false/);
  });

  it('a name that does not resolve is HG_LISTEN', async () => {
    expect(await codes({ HES_GATE_HOST: 'nowhere.lan' })).toEqual(['HG_LISTEN']);
  });
});

describe('ministry credentials', () => {
  const ministry = { HES_GATE_MINISTRY_URL: 'https://hesservis.example/services/g2g/test/saglik/hes/' };
  it('are required for a ministry environment, not for the simulator', async () => {
    expect(await codes({})).toEqual([]);
    expect(await codes(ministry)).toEqual(['HG_CREDENTIALS_MISSING']);
    expect(await codes({ ...ministry, HES_GATE_MINISTRY_USER: 'ORG-TEST' })).toEqual(['HG_CREDENTIALS_MISSING']);
    expect(await codes({ ...ministry, HES_GATE_MINISTRY_PASSWORD: 'pw' })).toEqual(['HG_CREDENTIALS_MISSING']);
    expect(await codes({ ...ministry, HES_GATE_MINISTRY_USER: 'ORG-TEST', HES_GATE_MINISTRY_PASSWORD: 'pw' })).toEqual([]);
  });
});

describe('the data directory', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      if (err instanceof HesGateError) return err.code;
      throw err;
    }
    return 'none';
  };

  it('is created level by level with mode 0700, and only when asked', () => {
    const target = join(dir, 'a', 'b', 'data');
    prepareDataDir(target, { create: false });
    expect(existsSync(join(dir, 'a'))).toBe(false);
    expect(prepareDataDir(target, { create: true })).toBe(target);
    for (const level of [join(dir, 'a'), join(dir, 'a', 'b'), target]) expect(statSync(level).mode & 0o777).toBe(0o700);
    expect(prepareDataDir(target, { create: true })).toBe(target);
  });

  it('refuses /proc and /sys at once, a file in its place, and a file among its parents', () => {
    expect(code(() => prepareDataDir('/proc/hes-gate/data', { create: true }))).toBe('HG_DATA_DIR');
    expect(code(() => prepareDataDir('/sys/hes-gate', { create: true }))).toBe('HG_DATA_DIR');
    const f = join(dir, 'plain-file');
    writeFileSync(f, 'x');
    expect(code(() => prepareDataDir(f, { create: true }))).toBe('HG_DATA_DIR');
    expect(code(() => prepareDataDir(join(f, 'data'), { create: true }))).toBe('HG_DATA_DIR');
  });
});

describe('a station or hub of a city', () => {
  const keyFile = join(dir, 'city.key');
  writeFileSync(keyFile, 'k1:' + Buffer.alloc(32, 7).toString('base64') + '\n');
  const nodeKeyFile = join(dir, 'node.key');
  writeFileSync(nodeKeyFile, NodeKey.generate().pem);

  it('standalone, the default, needs neither Redis nor a key file', async () => {
    expect(await codes({})).toEqual([]);
  });

  it('needs the city\'s Redis, a readable key file and its own node key file', async () => {
    expect(await codes({ HES_GATE_CITY_ROLE: 'station' })).toEqual(['HG_CONFIG_INVALID', 'HG_CONFIG_INVALID', 'HG_CONFIG_INVALID']);
    expect(await codes({ HES_GATE_CITY_ROLE: 'hub', HES_GATE_CITY_REDIS_URL: 'redis://127.0.0.1:6379', HES_GATE_CITY_NODE_KEY_FILE: nodeKeyFile })).toEqual(['HG_CONFIG_INVALID']);
    expect(await codes({ HES_GATE_CITY_ROLE: 'station', HES_GATE_CITY_SENTINELS: 's1:26379,s2:26379', HES_GATE_CITY_KEY_FILE: join(dir, 'missing.key'), HES_GATE_CITY_NODE_KEY_FILE: nodeKeyFile })).toEqual(['HG_CONFIG_FILE']);
    expect(await codes({ HES_GATE_CITY_ROLE: 'station', HES_GATE_CITY_REDIS_URL: 'rediss://city.lan:6380', HES_GATE_CITY_KEY_FILE: keyFile })).toEqual(['HG_CONFIG_INVALID']);
    expect(await codes({ HES_GATE_CITY_ROLE: 'station', HES_GATE_CITY_REDIS_URL: 'rediss://city.lan:6380', HES_GATE_CITY_KEY_FILE: keyFile, HES_GATE_CITY_NODE_KEY_FILE: join(dir, 'missing.node-key') })).toEqual(['HG_CONFIG_FILE']);
    expect(await codes({ HES_GATE_CITY_ROLE: 'station', HES_GATE_CITY_REDIS_URL: 'rediss://city.lan:6380', HES_GATE_CITY_KEY_FILE: keyFile, HES_GATE_CITY_NODE_KEY_FILE: nodeKeyFile })).toEqual([]);
  });

  it('refuses a Redis address with a password in it, naming the setting and not the password', () => {
    expect(() => loadConfig({ env: { HES_GATE_CITY_REDIS_URL: 'redis://u:s3cret@city.lan:6379' }, noFile: true })).toThrow(/city\.redisUrl/);
    expect(() => loadConfig({ env: { HES_GATE_CITY_REDIS_URL: 'redis://u:s3cret@city.lan:6379' }, noFile: true })).not.toThrow(/s3cret/);
    expect(() => loadConfig({ env: { HES_GATE_CITY_ROLE: 'island' }, noFile: true })).toThrow(/city\.role/);
  });
});
