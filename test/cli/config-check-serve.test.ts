/**
 * `config check` refuses exactly what `serve` refuses, with the same coded line: both load the
 * configuration and run the start checks through the same functions. `serve` is the real
 * command (test/cli/cli.ts); `config check` runs in this process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configCheck } from '../../src/cli/config-check.js';
import { runCli } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'hes-gate-check-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

const gate = (extra: string): string => `{"gates":{"list":[{"id":"G1",${extra}}]}}`;

const CASES: Array<[string, string, NodeJS.ProcessEnv, string]> = [
  ['an unknown reader profile', gate('"reader":{"path":"/dev/ttyUSB0","profile":"no-such-reader"}'), {}, 'HG_CONFIG_INVALID'],
  ['a reader given as a string', gate('"reader":"/dev/ttyUSB0"'), {}, 'HG_CONFIG_INVALID'],
  ['a Modbus unit 999', gate('"controller":{"path":"/dev/ttyUSB9","profile":"modbus-relay","unit":999}'), {}, 'HG_CONFIG_INVALID'],
  ['"__proto__" at the top level', '{"__proto__":{"server":{"port":1}}}', {}, 'HG_CONFIG_INVALID'],
  ['"constructor" in gates.defaults', '{"gates":{"defaults":{"constructor":1}}}', {}, 'HG_CONFIG_INVALID'],
  ['all interfaces without tokens', '{"server":{"host":"0.0.0.0"}}', {}, 'HG_EXPOSED_WITHOUT_TOKEN'],
  ['a one-character API token', '{}', { HES_GATE_API_TOKEN: 'x' }, 'HG_TOKEN_WEAK'],
  ['a ministry address without credentials', '{"ministry":{"baseUrl":"https://hesservis.example/services/g2g/saglik/hes/"}}', {}, 'HG_CREDENTIALS_MISSING'],
];

describe('config check refuses exactly what serve refuses', () => {
  it.each(CASES)('%s', async (name, json, extraEnv, code) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, json);
    const env = { HES_GATE_CONFIG: file, HES_GATE_PORT: '0', HES_GATE_DATA_DIR: join(dir, 'data'), ...extraEnv };

    const stdout = new Capture();
    const stderr = new Capture();
    const checked = await configCheck({}, { env, stdout, stderr, cwd: dir });
    const served = await runCli(['serve'], { env });

    expect(checked).toBe(2);
    expect(served.code).toBe(2);
    // The whole line, prefix included: one form for both commands (issue 20).
    const checkLine = stderr.text.split('\n')[0]!;
    const serveLine = served.stderr.trimEnd();
    expect(serveLine.startsWith(`hes-gate: ${code}: `), served.stderr).toBe(true);
    expect(checkLine).toBe(serveLine);
  }, 60_000);
});

/** Issue 20.6: what serve meets only when it listens, and a CA file that is not a certificate. */
describe('config check refuses what serve meets at listen, and a CA file that is not PEM', () => {
  const tokens = { HES_GATE_API_TOKEN: 'api-token-of-32-characters-0123', HES_GATE_ADMIN_TOKEN: 'admin-token-of-32-characters-012' };
  let busy: Server | undefined;
  const occupied = async (): Promise<number> => {
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r));
    return (busy.address() as AddressInfo).port;
  };

  async function both(env: NodeJS.ProcessEnv): Promise<{ checked: number; checkLine: string; serveLine: string; served: number | null }> {
    const stdout = new Capture();
    const stderr = new Capture();
    const checked = await configCheck({}, { env, stdout, stderr, cwd: dir });
    const served = await runCli(['serve'], { env });
    // Whole lines, prefix included: one form for both commands.
    return { checked, checkLine: stderr.text.split('\n')[0]!, serveLine: served.stderr.trimEnd(), served: served.code };
  }

  it.each<[string, () => Promise<NodeJS.ProcessEnv>, string, RegExp]>([
    ['a port in use', async () => ({ HES_GATE_CONFIG: 'default', HES_GATE_PORT: String(await occupied()) }), 'HG_LISTEN', /another process is using 127\.0\.0\.1:\d+: stop it/],
    ['an address not on this machine', async () => ({ HES_GATE_CONFIG: 'default', HES_GATE_HOST: '192.0.2.77', HES_GATE_PORT: '0', ...tokens }), 'HG_LISTEN', /192\.0\.2\.77.* is not an address of this machine/],
    [
      'a CA file that is not PEM',
      async () => {
        const ca = join(dir, 'ca.der');
        writeFileSync(ca, Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01]));
        const file = join(dir, 'ca-not-pem.json');
        writeFileSync(file, JSON.stringify({ ministry: { caFile: ca } }));
        return { HES_GATE_CONFIG: file, HES_GATE_PORT: '0' };
      },
      'HG_CONFIG_FILE',
      /ministry\.caFile .*ca\.der is not a PEM certificate/,
    ],
    [
      'a PEM block that is not a certificate',
      async () => {
        const ca = join(dir, 'ca-garbage.pem');
        writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
        const file = join(dir, 'ca-garbage.json');
        writeFileSync(file, JSON.stringify({ ministry: { caFile: ca } }));
        return { HES_GATE_CONFIG: file, HES_GATE_PORT: '0' };
      },
      'HG_CONFIG_FILE',
      /ministry\.caFile .*ca-garbage\.pem is not a PEM certificate/,
    ],
  ])('%s', async (_name, envOf, code, message) => {
    try {
      const env = { HES_GATE_DATA_DIR: join(dir, 'data'), HES_GATE_LOG_LEVEL: 'warn', ...(await envOf()) };
      const r = await both(env);
      expect(r.checked).toBe(2);
      expect(r.served).toBe(2);
      expect(r.serveLine.startsWith(`hes-gate: ${code}: `), r.serveLine).toBe(true);
      expect(r.serveLine).toMatch(message);
      expect(r.checkLine).toBe(r.serveLine);
    } finally {
      busy?.close();
      busy = undefined;
    }
  }, 60_000);

  it('accepts a real PEM CA file (the test TLS fixture)', async () => {
    const file = join(dir, 'ca-ok.json');
    writeFileSync(file, JSON.stringify({ ministry: { caFile: join(import.meta.dirname, '..', 'fixtures', 'tls', 'localhost-cert.pem') } }));
    const stdout = new Capture();
    const stderr = new Capture();
    expect(await configCheck({}, { env: { HES_GATE_CONFIG: file, HES_GATE_PORT: '0', HES_GATE_DATA_DIR: join(dir, 'data') }, stdout, stderr, cwd: dir }), stderr.text).toBe(0);
  });

  it('an unresolvable ministry host is a warning, not a refusal: DNS may be down at boot (serve shows it on /readyz)', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const env = { HES_GATE_CONFIG: 'test', HES_GATE_HOST: '127.0.0.1', HES_GATE_PORT: '0', HES_GATE_DATA_DIR: join(dir, 'data'), HES_GATE_MINISTRY_USER: 'u', HES_GATE_MINISTRY_PASSWORD: 'p', HES_GATE_MINISTRY_URL: 'https://hesservis.invalid/services/g2g/test/saglik/hes/' };
    const lookup = async (host: string): Promise<Array<{ address: string; family: number }>> => {
      if (host.endsWith('.invalid')) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return [{ address: '127.0.0.1', family: 4 }];
    };
    expect(await configCheck({}, { env, stdout, stderr, cwd: dir, lookup }), stderr.text).toBe(0);
    expect(stdout.text).toMatch(/warning: ministry\.baseUrl's host hesservis\.invalid does not resolve here \(ENOTFOUND\): serve starts anyway/);
  });
});
