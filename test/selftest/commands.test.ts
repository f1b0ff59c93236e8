import { readdirSync } from 'node:fs';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { registerSelftestCommands } from '../../src/cli/selftest.js';
import { Capture, tempDir } from './helpers.js';

/** The commands as main.ts wires them: option names must reach selftest() as its option keys. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const program = new Command().name('hes-gate').exitOverride();
  registerSelftestCommands(program, { env, stdout, stderr });
  await program.parseAsync(['node', 'hes-gate', ...args]);
  return { code: Number(process.exitCode ?? 0), stdout: stdout.text, stderr: stderr.text };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('registerSelftestCommands', () => {
  it('hes-gate selftest: every option reaches the run', async () => {
    const report = tempDir('hes-gate-selftest-cmd-');
    const r = await cli([
      'selftest', '--riskless', 'A1B2-3456-78', '--risky', 'E5F6789012', '--not-found', 'G7H8901234', '--expired', 'J9K0123456',
      '--employee', 'A1B2345678', '--visitor', 'C3D4567890', '--visitor-city', 'Ankara', '--visitor-district', 'Çankaya',
      '--visitor-address', 'Kızılay', '--visitor-location', '39.92,32.85', '--latency-calls', '3', '--report', report,
    ]);
    expect(r.stderr).not.toContain('FAIL');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS\s+visitor\s+\d+\s+C3D4-\*{4}-\*\* → RISKLESS$/m);
    expect(r.stdout).toMatch(/^PASS\s+latency\s+\d+\s+3 calls:/m);
    expect(readdirSync(report)).toHaveLength(2);
  });

  it('hes-gate selftest: a bad number is a usage error', async () => {
    const r = await cli(['selftest', '--latency-calls', 'many', '--report', tempDir('hes-gate-selftest-cmd-')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--latency-calls must be an integer from 1 to 100');
  });

  it('hes-gate config check --config test --json', async () => {
    // What serve needs for the test environment on all interfaces: credentials, both tokens, a data directory.
    const station = { HES_GATE_MINISTRY_USER: 'ORG-TEST', HES_GATE_MINISTRY_PASSWORD: 'pw', HES_GATE_API_TOKEN: 'commands-test-api-token', HES_GATE_ADMIN_TOKEN: 'commands-test-admin-token', HES_GATE_DATA_DIR: tempDir('hes-gate-config-cmd-') };
    const r = await cli(['config', 'check', '--config', 'test', '--json'], station);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, environment: 'test' });
  });
});
