/**
 * Issue 11: the container image's defaults. There is no Docker engine here, so the image's
 * environment is read from the Dockerfile's final stage and the real CLI runs with it, as the
 * container's entrypoint would: without configuration it refuses to start and says what it
 * needs; with the documented secrets and user it is a valid configuration.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const MAIN = resolve('dist/src/cli/main.js');
const dockerfile = readFileSync('Dockerfile', 'utf8');
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** `ENV K=V \ K=V …` instructions of the final stage (unquoted values, as this Dockerfile writes them). */
function imageEnv(): Record<string, string> {
  const joined = finalStage.replace(/\\\n\s*/g, ' ');
  const env: Record<string, string> = {};
  for (const m of joined.matchAll(/^ENV (.+)$/gm)) {
    for (const pair of m[1]!.trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** The CLI with only the image's environment (plus PATH), the data dir moved off this machine's /var/lib. */
async function hesGate(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hg-image-data-'));
  scratch.push(dataDir);
  try {
    const r = await run(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env, HES_GATE_DATA_DIR: dataDir }, cwd: dataDir, timeout: 15_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string; killed?: boolean };
    if (e.killed) throw new Error('the command did not exit: it started serving');
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the container image', () => {
  const env = imageEnv();

  it('holds no secret values and no working default, only where secrets are read from', () => {
    expect(env.HES_GATE_HOST).toBe('0.0.0.0');
    for (const name of ['HES_GATE_MINISTRY_PASSWORD', 'HES_GATE_API_TOKEN', 'HES_GATE_ADMIN_TOKEN']) {
      expect(env[name], name).toBeUndefined();
      expect(env[`${name}_FILE`], `${name}_FILE`).toMatch(/^\/run\/secrets\//);
    }
    expect(finalStage).toMatch(/--groups dialout/);
    expect(finalStage).toMatch(/^USER hesgate$/m);
  });

  it('started without configuration, exits non-zero with one coded line saying what it needs', async () => {
    const r = await hesGate(['serve'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hes-gate: HG_[A-Z_]+: .*HES_GATE_MINISTRY_(PASSWORD|USER)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).not.toMatch(/hes-gate is serving/);
  });

  it('with the documented secret files and ministry user, its configuration is valid', async () => {
    const secrets = mkdtempSync(join(tmpdir(), 'hg-image-secrets-'));
    scratch.push(secrets);
    const configured: Record<string, string> = { ...env, HES_GATE_MINISTRY_USER: 'ORG-LIVE' };
    for (const name of ['HES_GATE_MINISTRY_PASSWORD_FILE', 'HES_GATE_API_TOKEN_FILE', 'HES_GATE_ADMIN_TOKEN_FILE']) {
      // The same file names, mounted here instead of /run/secrets/hes-gate.
      const file = join(secrets, basename(env[name]!));
      mkdirSync(secrets, { recursive: true });
      writeFileSync(file, `${name.toLowerCase()}-value\n`, { mode: 0o600 });
      configured[name] = file;
    }
    const r = await hesGate(['config', 'check'], configured);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/live/);
  });
});
