/**
 * The processes a whole-station benchmark starts, as an operator would: `hes-gate serve` with
 * the service's node options, `hes-gate simulate` as the ministry (another machine in the field,
 * so its answers are made outside the station's event loop), the CLI's one-shot commands, and an
 * import client. Used by the no-stall, saturation and city figures.
 *
 *   startMinistry() ── hes-gate simulate --port 0 ──> test base URL (+ control API with a token)
 *   startStation()  ── hes-gate serve (config file, NODE_OPTIONS) ──> url, its JSON log lines
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SIMULATOR_PASSWORD } from '../src/simulator/index.js';
import type { Faults } from '../src/simulator/index.js';
import { childNodeOptions, STATION_NODE_OPTIONS } from './child.js';

/** The built CLI, `hes-gate`. */
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** SIGCONT (a frozen process), then SIGTERM; resolves when the process has exited. */
export function stop(proc: ChildProcess): Promise<void> {
  return new Promise<void>((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return r();
    proc.once('exit', () => r());
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
  });
}

export interface Ministry {
  /** The ministry's test base URL (what a station's `ministry.baseUrl` takes). */
  baseUrl: string;
  pid: number;
  /** Set the simulator's faults over its control API (only when started with a control token). */
  setFaults(faults: Partial<Faults>): Promise<void>;
  close(): Promise<void>;
}

/** `hes-gate simulate` on a free port; `controlToken` (≥ 16 characters) turns its control API on. */
export async function startMinistry(controlToken?: string): Promise<Ministry> {
  const env = controlToken === undefined ? process.env : { ...process.env, HES_GATE_SIMULATOR_TOKEN: controlToken };
  const proc = spawn(process.execPath, [CLI, 'simulate', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`hes-gate simulate exited (${code}) before serving`)));
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /test base URL\s+(\S+)/.exec(line);
      if (m !== null) resolve(m[1]!);
    });
  });
  return {
    baseUrl,
    pid: proc.pid!,
    async setFaults(faults) {
      if (controlToken === undefined) throw new Error('startMinistry: no control token, no control API');
      const res = await fetch(new URL('/_simulator/faults', baseUrl), { method: 'PUT', headers: { authorization: `Bearer ${controlToken}`, 'content-type': 'application/json' }, body: JSON.stringify(faults) });
      if (res.status >= 300) throw new Error(`simulator faults: ${res.status} ${await res.text()}`);
    },
    close: () => stop(proc),
  };
}

export type LogRecord = Record<string, unknown>;

export interface Station {
  url: string;
  proc: ChildProcess;
  /** Its JSON log lines so far (the last few thousand). */
  logs: LogRecord[];
  /** Resolves with the first later log record that matches. */
  waitLog(match: (rec: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  close(): Promise<void>;
}

export interface StationOptions {
  /** The configuration, written to `<dir>/<name>.json`. */
  config: Record<string, unknown>;
  dir: string;
  /** @default 'station' */
  name?: string;
  /** Environment beside the config file (tokens); the ministry password is the simulator's. */
  env?: Record<string, string>;
}

/**
 * `hes-gate serve` with the node options the unit and the image give it (STATION_NODE_OPTIONS,
 * plus `BENCH_CHILD_NODE_OPTIONS` on its command line); resolves once it serves. Lines that are
 * not JSON (`--trace-gc` output) go to `<dir>/<name>.out`.
 */
export async function startStation(o: StationOptions): Promise<Station> {
  const name = o.name ?? 'station';
  const file = join(o.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(o.config));
  const proc = spawn(process.execPath, [...childNodeOptions(), CLI, 'serve'], {
    env: { ...process.env, NODE_OPTIONS: STATION_NODE_OPTIONS, HES_GATE_CONFIG: file, HES_GATE_MINISTRY_PASSWORD: SIMULATOR_PASSWORD, HES_GATE_PORT: '0', ...o.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: LogRecord[] = [];
  const waiters = new Set<{ match: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }>();
  const url = await new Promise<string>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${name}: hes-gate serve exited (${code}) before serving`)));
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      let rec: LogRecord;
      try {
        rec = JSON.parse(line) as LogRecord;
      } catch {
        appendFileSync(join(o.dir, `${name}.out`), `${line}\n`);
        return;
      }
      logs.push(rec);
      if (logs.length > 5000) logs.splice(0, 1000);
      if (typeof rec['url'] === 'string' && String(rec['msg']).includes('serving')) resolve(rec['url']);
      for (const w of waiters) {
        if (w.match(rec)) {
          waiters.delete(w);
          w.resolve(rec);
        }
      }
    });
  });
  return {
    url,
    proc,
    logs,
    waitLog: (match, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no matching log line within ${timeoutMs} ms`)), timeoutMs);
        waiters.add({
          match,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      }),
    close: () => stop(proc),
  };
}

/** A one-shot `hes-gate …` command; resolves with "exit 0" or "exit 1" (a finding), rejects on anything else. */
export function runCli(cmd: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', (code) => (code === 0 || code === 1 ? resolve(`exit ${code}`) : reject(new Error(`${cmd.join(' ')}: exit ${code}: ${out.trim().split('\n').pop()}`))));
  });
}

/**
 * An operator's import client, in a process of its own as it is in the field: read in the
 * benchmark's process, each file (10 MB) blocked the tap generator's loop, and its taps left up
 * to 116 ms late (measured: 166–170 late sends per run, while the station's own elapsedMs stayed
 * ≤ 19 ms).
 */
export function uploadImports(url: string, files: string[], adminToken: string): Promise<void> {
  const script = `const { readFileSync } = require('node:fs');
(async () => {
  for (const f of process.argv.slice(2)) {
    const res = await fetch(process.argv[1], { method: 'POST', headers: { authorization: 'Bearer ' + process.env.HES_GATE_ADMIN_TOKEN, 'content-type': 'application/x-ndjson' }, body: readFileSync(f) });
    if (res.status >= 300) { process.stderr.write('import answered ' + res.status + ': ' + (await res.text()).slice(0, 200)); process.exit(1); }
  }
})();`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', script, url, ...files], { env: { ...process.env, HES_GATE_ADMIN_TOKEN: adminToken }, stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`import upload: exit ${code}: ${err.trim()}`))));
  });
}
