/**
 * The real `hes-gate` command (built by `npm test`'s build step) for the store tests: one-shot
 * commands, and `serve` as a station process running beside them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const MAIN = resolve('dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one `hes-gate` command to its end. */
export async function hesGate(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export interface Station {
  url: string;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** `hes-gate serve` on a free loopback port with the embedded simulator; resolves once it serves. */
export async function startStation(dataDir: string, adminToken: string): Promise<Station> {
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: { ...process.env, HES_GATE_CONFIG: 'default', HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir, HES_GATE_ADMIN_TOKEN: adminToken, HES_GATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'hes-gate is serving') resolveUrl(String(entry.url));
    });
    child.once('exit', (code) => reject(new Error(`hes-gate serve exited early with ${code}: ${stderr}`)));
  });
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
