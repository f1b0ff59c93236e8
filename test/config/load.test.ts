import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { HesGateError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'hes-gate-config-'));
function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof HesGateError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

describe('loadConfig', () => {
  it('loads the shipped environments', () => {
    for (const name of ['default', 'test', 'live']) {
      const { config } = loadConfig({ env: { HES_GATE_CONFIG: name } });
      expect(config.gates.defaults.deadlineMs).toBe(150);
    }
    expect(loadConfig({ env: {} }).config.ministry.baseUrl).toBeNull();
    expect(loadConfig({ env: { HES_GATE_CONFIG: 'test' } }).config.ministry.baseUrl).toMatch(/\/services\/g2g\/test\/saglik\/hes\/$/);
    expect(loadConfig({ env: { HES_GATE_CONFIG: 'live' } }).config.environment).toBe('live');
  });

  it('layers environment variables over the file and says where each value came from', () => {
    const { config, sources } = loadConfig({
      env: { HES_GATE_CONFIG: 'test', HES_GATE_PORT: '9090', HES_GATE_MINISTRY_USER: 'ORG-TEST', HES_GATE_LOG_LEVEL: 'warn' },
    });
    expect(config.server.port).toBe(9090);
    expect(config.ministry.user).toBe('ORG-TEST');
    expect(sources.get('server.port')).toBe('env HES_GATE_PORT');
    expect(sources.get('ministry.baseUrl')).toMatch(/^file .*test\.json$/);
    expect(sources.get('cache.risklessTtlMs')).toBe('default');
  });

  it('reads secrets from the environment or a file, and never prints them', () => {
    const pw = file('pw', 'sms-password-123\n');
    const { config, sources } = loadConfig({ env: { HES_GATE_MINISTRY_PASSWORD_FILE: pw, HES_GATE_API_TOKEN: 'tok-abc' } });
    expect(config.ministry.password?.reveal()).toBe('sms-password-123');
    expect(config.server.apiToken?.reveal()).toBe('tok-abc');
    expect(sources.get('ministry.password')).toBe('env HES_GATE_MINISTRY_PASSWORD_FILE');
    const printed = JSON.stringify(config) + inspect(config, { depth: 10 }) + String(config.ministry.password);
    expect(printed).not.toContain('sms-password-123');
    expect(printed).not.toContain('tok-abc');
  });

  it('refuses both a secret and its file', () => {
    expect(codeOf(() => loadConfig({ env: { HES_GATE_MINISTRY_PASSWORD: 'a', HES_GATE_MINISTRY_PASSWORD_FILE: '/x' } })).code).toBe('HG_CONFIG_INVALID');
  });

  it('names the key and what was expected', () => {
    const e1 = codeOf(() => loadConfig({ env: { HES_GATE_PORT: 'eighty' } }));
    expect(e1).toMatchObject({ code: 'HG_CONFIG_INVALID' });
    expect(e1.message).toMatch(/server\.port \(env HES_GATE_PORT\) must be an integer from 0 to 65535/);

    const e2 = codeOf(() => loadConfig({ env: { HES_GATE_CONFIG: file('bad.json', { gates: { defaults: { ministryUnavailable: 'maybe' } } }) } }));
    expect(e2.message).toMatch(/gates\.defaults\.ministryUnavailable .* must be one of "deny", "pass", "last-known"/);

    const e3 = codeOf(() => loadConfig({ env: { HES_GATE_CONFIG: file('typo.json', { cache: { risklesTtlMs: 5 } }) } }));
    expect(e3.message).toMatch(/cache\.risklesTtlMs .* is not a known setting/);

    const e4 = codeOf(() => loadConfig({ env: { HES_GATE_CONFIG: file('gate.json', { gates: { list: [{ id: 'G1' }, { id: 'G1' }] } }) } }));
    expect(e4.message).toMatch(/gates\.list\[1\]\.id .* must be unique/);
  });

  it('refuses a profileHours key no binding can hold (bindings hold lower-case profiles: `Senior` would never match)', () => {
    const windows = [{ from: '10:00', to: '16:00' }];
    const e = codeOf(() => loadConfig({ env: { HES_GATE_CONFIG: file('hours.json', { gates: { defaults: { profileHours: { Senior: windows } } } }) } }));
    expect(e).toMatchObject({ code: 'HG_CONFIG_INVALID' });
    expect(e.message).toMatch(/gates\.defaults\.profileHours .*lower-case word/);
    expect(loadConfig({ env: { HES_GATE_CONFIG: file('hours-ok.json', { gates: { defaults: { profileHours: { senior: windows } } } }) } }).config.gates.defaults.profileHours).toEqual({ senior: windows });
  });

  it('refuses credentials inside the ministry URL without echoing them', () => {
    const e = codeOf(() => loadConfig({ env: { HES_GATE_MINISTRY_URL: 'https://ORG-TEST:hunter2@hesservis.example/services/g2g/test/saglik/hes/' } }));
    expect(e.code).toBe('HG_CONFIG_INVALID');
    expect(e.message).toMatch(/without credentials/);
    expect(e.message).not.toContain('hunter2');
  });

  it('reports unreadable and non-JSON files with their own code', () => {
    expect(codeOf(() => loadConfig({ env: { HES_GATE_CONFIG: join(dir, 'missing.json') } })).code).toBe('HG_CONFIG_FILE');
    expect(codeOf(() => loadConfig({ env: { HES_GATE_CONFIG: file('broken.json', '{"server":') } })).code).toBe('HG_CONFIG_FILE');
  });

  it('fills gate policies from the defaults and freezes the result', () => {
    const { config } = loadConfig({
      env: {
        HES_GATE_CONFIG: file('gates.json', {
          gates: { defaults: { deadlineMs: 200 }, list: [{ id: 'G1', group: 'north', policy: { repeatTapWindowMs: 60000 } }, { id: 'G2' }] },
        }),
      },
    });
    expect(config.gates.list[0]).toMatchObject({ id: 'G1', group: 'north', policy: { deadlineMs: 200, repeatTapWindowMs: 60000 } });
    expect(config.gates.list[1]).toMatchObject({ id: 'G2', group: 'G2', policy: { deadlineMs: 200, repeatTapWindowMs: 0 } });
    expect(Object.isFrozen(config.gates.list[0]!.policy)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow();
  });
});

describe('cross-checks of the cache settings', () => {
  it('refuses a RISKY freshness shorter than the RISKLESS one, naming both', () => {
    const r = codeOf(() => loadConfig({ noFile: true, env: {}, overrides: { cache: { risklessTtlMs: 600_000, riskyTtlMs: 300_000 } } }));
    expect(r.code).toBe('HG_CONFIG_INVALID');
    expect(r.message).toMatch(/^cache\.riskyTtlMs \(file overrides\) must be at least cache\.risklessTtlMs \(600000, file overrides\).*, got 300000$/);
    // Equal is the shortest accepted; the defaults (10 min, 6 h) pass.
    expect(loadConfig({ noFile: true, env: {}, overrides: { cache: { risklessTtlMs: 600_000, riskyTtlMs: 600_000 } } }).config.cache.riskyTtlMs).toBe(600_000);
    expect(loadConfig({ noFile: true, env: {} }).config.cache).toMatchObject({ risklessTtlMs: 600_000, riskyTtlMs: 21_600_000 });
  });

  it('refuses a gate\'s last-known age beyond how long the cache keeps statuses, naming both values', () => {
    const defaults = codeOf(() => loadConfig({ noFile: true, env: {}, overrides: { gates: { defaults: { lastKnownMaxAgeMs: 2 * 86_400_000 } } } }));
    expect(defaults.code).toBe('HG_CONFIG_INVALID');
    expect(defaults.message).toMatch(/^gates\.defaults\.lastKnownMaxAgeMs \(.*\) must be at most cache\.lastKnownMaxAgeMs \(86400000, default\).*, got 172800000$/);

    const oneGate = codeOf(() =>
      loadConfig({ noFile: true, env: {}, overrides: { cache: { lastKnownMaxAgeMs: 3_600_000 }, gates: { defaults: { lastKnownMaxAgeMs: 3_600_000 }, list: [{ id: 'G1' }, { id: 'G2', policy: { lastKnownMaxAgeMs: 7_200_000 } }] } } }),
    );
    expect(oneGate.code).toBe('HG_CONFIG_INVALID');
    expect(oneGate.message).toMatch(/^gates\.list\[1\]\.policy\.lastKnownMaxAgeMs \(.*\) must be at most cache\.lastKnownMaxAgeMs \(3600000, file overrides\).*, got 7200000$/);

    // A shorter cache with the default gate policy (6 h) is refused too: that 6 h would be cut short.
    expect(codeOf(() => loadConfig({ noFile: true, env: {}, overrides: { cache: { lastKnownMaxAgeMs: 3_600_000 } } })).message).toMatch(/^gates\.defaults\.lastKnownMaxAgeMs \(default\) must be at most cache\.lastKnownMaxAgeMs \(3600000/);
    // The age only matters under the last-known policy: a gate that denies or passes in an outage is not held to it.
    const deny = loadConfig({ noFile: true, env: {}, overrides: { cache: { lastKnownMaxAgeMs: 3_600_000 }, gates: { defaults: { ministryUnavailable: 'deny' } } } });
    expect(deny.config.gates.defaults.lastKnownMaxAgeMs).toBe(21_600_000);
    // Equal is accepted.
    expect(loadConfig({ noFile: true, env: {}, overrides: { gates: { defaults: { lastKnownMaxAgeMs: 86_400_000 } } } }).config.gates.defaults.lastKnownMaxAgeMs).toBe(86_400_000);
  });
});
