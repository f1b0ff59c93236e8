import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { chmodSync, mkdirSync, statSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configCheck, type ConfigCheckOptions } from '../../src/cli/config-check.js';
import { runCli } from './cli.js';

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
  const code = await configCheck(opts, { env, stdout, stderr, cwd: dir, lookup });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The ministry's names resolve (this machine may have no DNS); everything else as the system says. */
async function lookup(host: string): Promise<Array<{ address: string; family: number }>> {
  return host.startsWith('hesservis.') && !host.endsWith('.invalid') ? [{ address: '192.0.2.10', family: 4 }] : dnsLookup(host, { all: true });
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
    const r = await run({ json: true }, { HES_GATE_CONFIG: 'default', HES_GATE_MINISTRY_PASSWORD: PASSWORD, HES_GATE_LOG_LEVEL: 'warn' });
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

  it('says which file and data directory it checked, and refuses to pass (exit 1, warning) when it fell back to the bundled default', async () => {
    const r = await run({}, { HES_GATE_DATA_DIR: join(dir, 'data') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hes-gate: warning: HES_GATE_CONFIG is not set, so this checked the bundled .*config\/default\.json \(the embedded simulator\), not a station's configuration: check what the service runs with `sudo hes-gate config check --unit`/m);
    expect(r.stdout).toMatch(/^Configuration file: .*config\/default\.json {2}<- the bundled simulator configuration/m);
    expect(r.stdout).toMatch(new RegExp(`^Data directory: ${join(dir, 'data')}$`, 'm'));
    expect(r.stdout).toMatch(/^NOT CHECKED: /m);
    expect(r.stdout).not.toMatch(/^OK/m);
    const json = JSON.parse((await run({ json: true }, {})).stdout);
    expect(json).toMatchObject({ ok: true, fellBack: true, dataDir: join(dir, 'data') });
    expect(json.warnings[0]).toMatch(/^HES_GATE_CONFIG is not set/);
    // Named on purpose: the simulator's configuration passes.
    const named = await run({ config: 'default' }, {});
    expect(named.code).toBe(0);
    expect(named.stdout).toMatch(/^OK: the configuration is valid$/m);
  });
});

/**
 * Issue 22: `config check --unit` checks what the systemd unit runs — its EnvironmentFile and the
 * credentials systemd hands over — where the old documented `env $(grep … hes-gate.env)` could
 * neither see the credentials nor notice an env file it could not read.
 */
describe('hes-gate config check --unit', () => {
  /** An install as docs/install.md makes it, under a temp root: the packaged unit with its paths moved there. */
  function install(envLines: string[]): { unit: string; etc: string } {
    const root = mkdtempSync(join(tmpdir(), 'hes-gate-unit-'));
    chmodSync(root, 0o755);
    const etc = join(root, 'etc', 'hes-gate');
    mkdirSync(join(etc, 'credentials'), { recursive: true, mode: 0o755 });
    const unitText = readFileSync(join(import.meta.dirname, '..', '..', 'packaging', 'hes-gate.service'), 'utf8').replaceAll('/etc/hes-gate', etc).replaceAll('%S/hes-gate', join(root, 'var-lib-hes-gate'));
    const unit = join(root, 'hes-gate.service');
    writeFileSync(unit, unitText);
    writeFileSync(join(etc, 'hes-gate.env'), envLines.join('\n') + '\n', { mode: 0o640 });
    writeFileSync(join(etc, 'credentials', 'ministry-password'), `${PASSWORD}\n`, { mode: 0o600 });
    // As install.md makes them: openssl rand -hex 32.
    writeFileSync(join(etc, 'credentials', 'api-token'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    writeFileSync(join(etc, 'credentials', 'admin-token'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    return { unit, etc };
  }
  const stationEnv = ['# comment', 'HES_GATE_CONFIG=test', 'HES_GATE_MINISTRY_USER=ORG-TEST', 'HES_GATE_HOST=127.0.0.1', 'HES_GATE_PORT=0', 'HES_GATE_LOG_LEVEL=info'];

  it('passes a correct install: the unit\'s env file and its credentials, not this shell\'s variables', async () => {
    const { unit, etc } = install(stationEnv);
    // This shell's own variables must not reach the check: the service does not see them.
    const r = await run({ unit }, { HES_GATE_CONFIG: 'live', HES_GATE_MINISTRY_USER: 'SOMEONE-ELSE' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Unit: ${unit}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^Environment file: ${join(etc, 'hes-gate.env')}$`, 'm'));
    expect(r.stdout).toMatch(/^Credentials: ministry-password \(.*ministry-password\), api-token \(.*\), admin-token \(.*\)$/m);
    expect(r.stdout).toMatch(/^Configuration file: .*config\/test\.json$/m);
    expect(r.stdout).toMatch(/^Data directory: .*var-lib-hes-gate$/m);
    expect(r.stdout).toMatch(/^ministry\.user\s+"ORG-TEST"\s+env HES_GATE_MINISTRY_USER$/m);
    expect(r.stdout).toMatch(/^ministry\.password\s+set\s+env HES_GATE_MINISTRY_PASSWORD_FILE$/m);
    expect(r.stdout).toMatch(/^OK: the configuration is valid$/m);
    expect(r.stdout).not.toContain(PASSWORD);
  });

  it('reads the drop-ins too, and refuses a credential file that is missing', async () => {
    const { unit, etc } = install(stationEnv);
    mkdirSync(`${unit}.d`);
    writeFileSync(join(`${unit}.d`, 'city.conf'), readFileSync(join(import.meta.dirname, '..', '..', 'packaging', 'hes-gate-city.conf'), 'utf8').replaceAll('/etc/hes-gate', etc));
    const r = await run({ unit }, {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hes-gate: HG_CONFIG_FILE: cannot read the credential city-key \(LoadCredential\) .*city-key \(no such file\): nothing was checked/m);
  });

  it('a unit whose env file does not name a configuration runs the simulator: exit 1, said loudly', async () => {
    const { unit } = install(stationEnv.filter((l) => !l.startsWith('HES_GATE_CONFIG=')));
    const r = await run({ unit }, { HES_GATE_CONFIG: 'test' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/warning: HES_GATE_CONFIG is not set/);
  });

  it.skipIf(process.getuid?.() !== 0)('refuses loudly when the env file cannot be read (run as nobody; the file is 0640 root)', async () => {
    const { unit, etc } = install(stationEnv);
    // nobody must reach the unit file (the run's temp folder is 0700): traverse only, for this test.
    const runDir = tmpdir();
    const mode = statSync(runDir).mode & 0o7777;
    chmodSync(runDir, mode | 0o001);
    let r: Awaited<ReturnType<typeof runCli>>;
    try {
      r = await runCli(['config', 'check', '--unit', unit], { uid: 65534, gid: 65534, env: { HES_GATE_CONFIG: 'default' } });
    } finally {
      chmodSync(runDir, mode);
    }
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^hes-gate: HG_CONFIG_FILE: cannot read the unit's EnvironmentFile ${join(etc, 'hes-gate.env')} \\(permission denied for user .*65534.*\\): nothing was checked; run as root`, 'm'));
    expect(r.stdout).not.toMatch(/OK/);
  }, 30_000);
});
