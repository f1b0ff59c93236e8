import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configCheck, type ConfigCheckOptions } from '../../src/cli/config-check.js';

const dir = mkdtempSync(join(tmpdir(), 'hes-gate-config-check-'));
const PASSWORD = 'pw-from-sms-1234';
const passwordFile = join(dir, 'ministry-password');
writeFileSync(passwordFile, `${PASSWORD}\n`);

class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

async function run(opts: ConfigCheckOptions, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await configCheck(opts, { env, stdout, stderr, cwd: dir });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** What a station needs to start in the test or live environment, besides the password. */
const STATION = { HES_GATE_API_TOKEN: 'config-check-api-token', HES_GATE_ADMIN_TOKEN: 'config-check-admin-token', HES_GATE_DATA_DIR: join(dir, 'data') };

function file(name: string, content: string): string {
  writeFileSync(join(dir, name), content);
  return name;
}

describe('hes-gate config check', () => {
  it('prints every effective setting with its source, secrets as set/unset', async () => {
    const r = await run({ config: 'test' }, { ...STATION, HES_GATE_MINISTRY_USER: 'ORG-TEST', HES_GATE_MINISTRY_PASSWORD_FILE: passwordFile, HES_GATE_PORT: '9090' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Configuration file: .*config\/test\.json$/m);
    expect(r.stdout).toMatch(/^Environment: test$/m);
    expect(r.stdout).toMatch(/^ministry\.baseUrl\s+"https:\/\/hesservis\.turkiye\.gov\.tr\/services\/g2g\/test\/saglik\/hes\/"\s+file$/m);
    expect(r.stdout).toMatch(/^ministry\.user\s+"ORG-TEST"\s+env HES_GATE_MINISTRY_USER$/m);
    expect(r.stdout).toMatch(/^ministry\.password\s+set\s+env HES_GATE_MINISTRY_PASSWORD_FILE$/m);
    expect(r.stdout).toMatch(/^server\.apiToken\s+set\s+env HES_GATE_API_TOKEN$/m);
    expect(r.stdout).toMatch(/^server\.port\s+9090\s+env HES_GATE_PORT$/m);
    expect(r.stdout).toMatch(/^cache\.riskyTtlMs\s+21600000\s+default$/m);
    expect(r.stdout).toMatch(/^OK: the configuration is valid$/m);
    expect(r.stdout).not.toContain(PASSWORD);
    expect(r.stdout).not.toContain('warning');
  });

  it('prints JSON with --json', async () => {
    const r = await run({ json: true }, { HES_GATE_MINISTRY_PASSWORD: PASSWORD, HES_GATE_LOG_LEVEL: 'warn' });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, environment: 'simulator', warnings: [] });
    expect(out.settings['log.level']).toEqual({ value: 'warn', source: 'env HES_GATE_LOG_LEVEL' });
    expect(out.settings['ministry.password']).toEqual({ value: 'set', source: 'env HES_GATE_MINISTRY_PASSWORD' });
    expect(out.settings['ministry.baseUrl']).toEqual({ value: null, source: 'file' });
    expect(out.settings['gates.list']).toEqual({ value: [], source: 'file' });
    expect(r.stdout).not.toContain(PASSWORD);
  });

  it('refuses, as serve does, a ministry environment without user or password, naming what to set', async () => {
    const r = await run({ config: 'live' }, STATION);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^serve would refuse to start: 1 problem \(below\)$/m);
    expect(r.stderr).toMatch(/^hes-gate: HG_CREDENTIALS_MISSING: .*live environment needs credentials: set HES_GATE_MINISTRY_USER .* and HES_GATE_MINISTRY_PASSWORD_FILE/m);
    const json = JSON.parse((await run({ config: 'live', json: true }, STATION)).stdout);
    expect(json).toMatchObject({ ok: false, error: { code: 'HG_CREDENTIALS_MISSING' } });
    expect(json.problems).toHaveLength(1);
    const ok = await run({ config: 'live' }, { ...STATION, HES_GATE_MINISTRY_USER: 'ORG-G2G-HES', HES_GATE_MINISTRY_PASSWORD_FILE: passwordFile });
    expect(ok.code).toBe(0);
  });

  it('warns when the environment and the base URL prefix disagree', async () => {
    const r = await run({ config: 'live', json: true }, {
      ...STATION,
      HES_GATE_MINISTRY_URL: 'https://hesservis.turkiye.gov.tr/services/g2g/test/saglik/hes/',
      HES_GATE_MINISTRY_USER: 'ORG-G2G-HES',
      HES_GATE_MINISTRY_PASSWORD: PASSWORD,
    });
    expect(JSON.parse(r.stdout).warnings).toEqual(['environment is live but ministry.baseUrl has the test prefix (/test/)']);
  });

  it('exits 2 with the coded error naming the key when a value is invalid', async () => {
    const name = file('bad-port.json', JSON.stringify({ server: { port: 'eighty' } }));
    const r = await run({ config: name }, {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hes-gate: HG_CONFIG_INVALID: server\.port \(file .*bad-port\.json\) must be an integer from 0 to 65535/);
    expect(r.stdout).toBe('');
    const j = await run({ config: name, json: true }, {});
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'HG_CONFIG_INVALID', key: 'server.port' } });
  });

  it('exits 2 for an unknown key, a missing file, broken JSON and an unreadable secret file', async () => {
    const typo = await run({ config: file('typo.json', JSON.stringify({ ministry: { baseURL: 'https://x/' } })) }, {});
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('HG_CONFIG_INVALID: ministry.baseURL');
    const missing = await run({ config: 'no-such-file.json' }, {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('HG_CONFIG_FILE: cannot read configuration file');
    const broken = await run({ config: file('broken.json', '{"server":') }, {});
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('HG_CONFIG_FILE');
    const secret = await run({}, { HES_GATE_MINISTRY_PASSWORD_FILE: join(dir, 'absent') });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/HG_CONFIG_FILE: cannot read the secret file .*absent named by HES_GATE_MINISTRY_PASSWORD_FILE \(no such file\)/);
  });
});
