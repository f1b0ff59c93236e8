/**
 * `hes-gate serve` as an operator meets it: each start-up mistake is one coded line on stderr
 * with the next step, exit 2, never a stack trace or a hang; the exposure rule; and the files
 * it creates are readable by the service user only. The real command runs from the current
 * sources (test/cli/cli.ts).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STORE_FILE } from '../../src/cards/store.js';
import { runCli, serveUntilReady, startCli, stop, type CliResult } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'hes-gate-start-up-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T = 60_000;
/** Tokens that pass the token rule (src/config/token-rule.ts). */
const API_TOKEN = 'start-up-test-api-token';
const ADMIN_TOKEN = 'start-up-test-admin-token';

/** A station that would start: loopback, any free port, its own data directory, no ministry. */
function base(name: string): NodeJS.ProcessEnv {
  return { HES_GATE_CONFIG: 'default', HES_GATE_PORT: '0', HES_GATE_DATA_DIR: join(dir, name, 'data'), HES_GATE_LOG_LEVEL: 'warn' };
}

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

/** Exactly one line on stderr, `hes-gate: <code>: …`, exit 2. Returns the line. */
function oneCodedLine(r: CliResult, code: string): string {
  expect(r.stderr, r.stderr).toMatch(new RegExp(`^hes-gate: ${code}: [^\\n]+\\n$`));
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(2);
  return r.stderr;
}

describe('hes-gate serve: a start-up mistake is one coded line and exit 2', () => {
  it.each<[string, () => NodeJS.ProcessEnv, string, RegExp]>([
    ['a wrong configuration name lists the names that exist', () => ({ ...base('name'), HES_GATE_CONFIG: 'prod' }), 'HG_CONFIG_FILE', /no configuration named "prod": HES_GATE_CONFIG takes one of default, live, test, or the path/],
    [
      'a missing CA file',
      () => ({ ...base('ca'), HES_GATE_CONFIG: file('ca.json', { ministry: { caFile: join(dir, 'no-such-ca.pem') } }) }),
      'HG_CONFIG_FILE',
      /ministry\.caFile .*no-such-ca\.pem cannot be read \(no such file\)/,
    ],
    ['a host that does not resolve', () => ({ ...base('host'), HES_GATE_HOST: 'no-such-host.invalid' }), 'HG_LISTEN', /server\.host "no-such-host\.invalid" does not resolve/],
    ['a data directory under /proc (no hang)', () => ({ ...base('proc'), HES_GATE_DATA_DIR: '/proc/hes-gate/data' }), 'HG_DATA_DIR', /\/proc\/hes-gate\/data is on a kernel file system/],
    ['a data path that is a file', () => ({ ...base('file'), HES_GATE_DATA_DIR: file('data-is-a-file', 'x') }), 'HG_DATA_DIR', /data-is-a-file is a file, not a directory: set HES_GATE_DATA_DIR/],
    [
      'a password file that cannot be read',
      () => ({ ...base('pw'), HES_GATE_MINISTRY_PASSWORD_FILE: join(dir, 'no-such-password') }),
      'HG_CONFIG_FILE',
      /cannot read the secret file .*no-such-password named by HES_GATE_MINISTRY_PASSWORD_FILE \(no such file\)/,
    ],
    [
      'the ministry test environment without credentials',
      () => ({ ...base('creds'), HES_GATE_CONFIG: 'test', HES_GATE_HOST: '127.0.0.1', HES_GATE_API_TOKEN: API_TOKEN, HES_GATE_ADMIN_TOKEN: ADMIN_TOKEN }),
      'HG_CREDENTIALS_MISSING',
      /test environment needs credentials: set HES_GATE_MINISTRY_USER .* and HES_GATE_MINISTRY_PASSWORD_FILE/,
    ],
    [
      'the shipped live configuration without tokens',
      () => ({ ...base('live'), HES_GATE_CONFIG: 'live', HES_GATE_MINISTRY_USER: 'ORG-G2G-HES', HES_GATE_MINISTRY_PASSWORD: 'pw' }),
      'HG_EXPOSED_WITHOUT_TOKEN',
      /server\.host is 0\.0\.0\.0, .* HES_GATE_API_TOKEN and HES_GATE_ADMIN_TOKEN are not set: .*HES_GATE_ALLOW_UNAUTHENTICATED=1/,
    ],
    [
      'a bare container (the live configuration on all interfaces, nothing set) names the first problem and counts the others',
      () => ({ ...base('bare'), HES_GATE_CONFIG: 'live', HES_GATE_HOST: '0.0.0.0' }),
      'HG_CREDENTIALS_MISSING',
      /live environment needs credentials: .*; 1 more problem \(HG_EXPOSED_WITHOUT_TOKEN\): hes-gate config check lists them$/m,
    ],
    ['an invalid value', () => ({ ...base('port'), HES_GATE_PORT: 'eighty' }), 'HG_CONFIG_INVALID', /server\.port \(env HES_GATE_PORT\) must be an integer/],
    [
      'a one-character API token on all interfaces (issue 20), never repeated',
      () => ({ ...base('weak'), HES_GATE_HOST: '0.0.0.0', HES_GATE_API_TOKEN: 'Z', HES_GATE_ADMIN_TOKEN: ADMIN_TOKEN }),
      'HG_TOKEN_WEAK',
      /^hes-gate: HG_TOKEN_WEAK: HES_GATE_API_TOKEN is too weak: it has 1 character, at least 16 are needed; make one with: openssl rand -hex 16\n$/,
    ],
    [
      'a weak token on loopback too (the same token moves on to a station on the network)',
      () => ({ ...base('weak-lo'), HES_GATE_ADMIN_TOKEN: 'aaaaaaaaaaaaaaaaaaaa' }),
      'HG_TOKEN_WEAK',
      /HES_GATE_ADMIN_TOKEN is too weak: it repeats too few characters/,
    ],
    ['the admin token equal to the API token', () => ({ ...base('same'), HES_GATE_API_TOKEN: API_TOKEN, HES_GATE_ADMIN_TOKEN: API_TOKEN }), 'HG_TOKEN_WEAK', /HES_GATE_ADMIN_TOKEN equals HES_GATE_API_TOKEN/],
  ])('%s', async (_label, env, code, message) => {
    expect(oneCodedLine(await runCli(['serve'], { env: env() }), code)).toMatch(message);
  }, T);

  it('a port in use names it and what to do', async () => {
    const other = createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const { port } = other.address() as AddressInfo;
    try {
      const r = await runCli(['serve'], { env: { ...base('busy'), HES_GATE_PORT: String(port) } });
      expect(oneCodedLine(r, 'HG_LISTEN')).toMatch(new RegExp(`another process is using 127\\.0\\.0\\.1:${port}: stop it, or choose another port \\(HES_GATE_PORT`));
    } finally {
      other.close();
    }
  }, T);
});

// Root may read and write anything: permissions are checked as `nobody` then.
const asRoot = process.getuid?.() === 0;
describe.skipIf(process.platform === 'win32')('hes-gate serve: permissions', () => {
  const nobody = asRoot ? { uid: 65534, gid: 65534 } : {};
  it('permission denied on the data directory names the path and the user', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    if (!asRoot) chmodSync(locked, 0o500);
    const r = await runCli(['serve'], { env: { ...base('perm'), HES_GATE_DATA_DIR: join(locked, 'data') }, ...nobody });
    expect(oneCodedLine(r, 'HG_DATA_DIR')).toMatch(new RegExp(`permission denied .*${locked}.* for user .*\\(uid ${asRoot ? 65534 : process.getuid!()}\\)`));
  }, T);

  it('an unreadable password file says so', async () => {
    const pw = file('root-only-password', 'pw\n');
    chmodSync(pw, asRoot ? 0o600 : 0o000);
    const r = await runCli(['serve'], { env: { ...base('pw-perm'), HES_GATE_MINISTRY_PASSWORD_FILE: pw }, ...nobody });
    expect(oneCodedLine(r, 'HG_CONFIG_FILE')).toMatch(/cannot read the secret file .*root-only-password named by HES_GATE_MINISTRY_PASSWORD_FILE \(permission denied for user/);
  }, T);
});

describe('hes-gate serve: exposure and files', () => {
  it('beyond loopback: refuses without both tokens, starts with them or with the explicit override', async () => {
    const open = { ...base('exposed'), HES_GATE_HOST: '0.0.0.0' };
    const onlyApi = await runCli(['serve'], { env: { ...open, HES_GATE_API_TOKEN: API_TOKEN } });
    expect(oneCodedLine(onlyApi, 'HG_EXPOSED_WITHOUT_TOKEN')).toMatch(/but HES_GATE_ADMIN_TOKEN is not set: set it \(or HES_GATE_ADMIN_TOKEN_FILE\)/);
    for (const env of [
      { ...open, HES_GATE_API_TOKEN: API_TOKEN, HES_GATE_ADMIN_TOKEN: ADMIN_TOKEN },
      { ...open, HES_GATE_ALLOW_UNAUTHENTICATED: '1' },
    ]) {
      const child = startCli(['serve'], { env: { ...env, HES_GATE_LOG_LEVEL: 'info' } });
      const url = await serveUntilReady(child);
      expect(url).toMatch(/^http:\/\//);
      expect(await stop(child)).toBe(0);
    }
  }, T);

  it('creates the data directory 0700 and the store 0600, whatever the umask it was started with', async () => {
    const dataDir = join(dir, 'modes', 'new', 'data');
    const child = startCli(['serve'], { env: { ...base('modes'), HES_GATE_DATA_DIR: dataDir, HES_GATE_LOG_LEVEL: 'info' } });
    await serveUntilReady(child);
    try {
      for (const level of [join(dir, 'modes'), join(dir, 'modes', 'new'), dataDir]) expect((statSync(level).mode & 0o777).toString(8)).toBe('700');
      const store = join(dataDir, STORE_FILE);
      for (const f of [store, `${store}-wal`, `${store}-shm`]) expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
    } finally {
      expect(await stop(child)).toBe(0);
    }
  }, T);
});
