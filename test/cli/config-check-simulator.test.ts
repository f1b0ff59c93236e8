/** `config check` and `serve` agree about the embedded simulator: the same refusal, the same environment. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configCheck } from '../../src/cli/config-check.js';

async function run(env: NodeJS.ProcessEnv, json = false): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await configCheck(json ? { json } : {}, {
    env: { HES_GATE_CONFIG: 'default', ...env },
    stdout: { write: (s: string) => ((stdout += s), true) },
    stderr: { write: (s: string) => ((stderr += s), true) },
  });
  return { code, stdout, stderr };
}

describe('config check and the embedded simulator', () => {
  it('refuses a simulator host beyond loopback, as serve does, naming the key', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hes-gate-config-check-')), 'station.json');
    writeFileSync(file, JSON.stringify({ simulator: { host: '0.0.0.0' } }));
    const r = await run({ HES_GATE_CONFIG: file }, true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HG_CONFIG_INVALID: simulator\.host must be a loopback address/);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'HG_CONFIG_INVALID', key: 'simulator.host' } });
  });

  it('refuses a control token shorter than 16 characters, as serve does, without showing it', async () => {
    const r = await run({ HES_GATE_SIMULATOR_TOKEN: 'tiny-token' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HG_TOKEN_WEAK: HES_GATE_SIMULATOR_TOKEN is too weak: it has 10 characters, at least 16 are needed/);
    expect(r.stderr + r.stdout).not.toContain('tiny-token');
  });

  it('reports the simulator environment, with a warning, when the label says live but no ministry address is set', async () => {
    const r = await run({ HES_GATE_ENVIRONMENT: 'live' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Environment: simulator$/m);
    expect(r.stdout).toMatch(/^warning: environment is live but ministry\.baseUrl is unset: the embedded simulator answers/m);
    // No credential warnings: the simulator's credentials are its own.
    expect(r.stdout).not.toMatch(/ministry\.password is unset/);
  });
});
