/**
 * The real `hes-gate` command as a child process, run from the current sources through
 * test/cli/ts-hooks.mjs (so a test never runs a stale dist/). The child gets only the
 * environment a test gives it (plus PATH), never the test runner's HES_GATE_* variables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const HOOKS = resolve(ROOT, 'test/cli/ts-hooks.mjs');
export const MAIN = resolve(ROOT, 'src/cli/main.ts');

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (tests running as root check permissions as `nobody`). */
  uid?: number;
  gid?: number;
  cwd?: string;
}

export function startCli(args: readonly string[], opts: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', HOOKS, MAIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid === undefined ? {} : { uid: opts.uid }),
    ...(opts.gid === undefined ? {} : { gid: opts.gid }),
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run to exit; a child still running after `timeoutMs` is killed and the test fails saying so. */
export async function runCli(args: readonly string[], opts: CliOptions & { timeoutMs?: number } = {}): Promise<CliResult> {
  const child = startCli(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (signal === 'SIGKILL') throw new Error(`hes-gate ${args.join(' ')} did not exit within ${opts.timeoutMs ?? 30_000} ms (hang); stderr: ${stderr}`);
  return { code, signal, stdout, stderr };
}

/** Start `serve` and resolve with its URL once it logs that it is serving; rejects if it exits first. */
export function serveUntilReady(child: ChildProcess): Promise<string> {
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolveUrl, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'hes-gate is serving') resolveUrl(String(entry.url));
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before serving: ${stderr}`)));
  });
}

/** SIGTERM and wait for the exit code. */
export async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}
