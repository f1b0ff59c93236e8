/**
 * `config check` refuses exactly what `serve` refuses, with the same coded line: both load the
 * configuration and run the start checks through the same functions. `serve` is the real
 * command (test/cli/cli.ts); `config check` runs in this process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
