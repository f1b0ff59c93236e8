/**
 * The parent's side of server-main.ts: fork a server under test and talk to it.
 * `BENCH_CHILD_NODE_OPTIONS` adds node flags to every forked server, e.g.
 * `BENCH_CHILD_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=bench/results/prof"` to profile it.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildRequest, ServerMode } from './server-main.js';

export interface ServerChild {
  mode: ServerMode;
  url: string;
  pid: number;
  call<T = unknown>(cmd: ChildRequest['cmd'], arg?: unknown): Promise<T>;
  /**
   * CPU time (user + system) the child has used so far, in ms, every thread counted (the
   * journal's and store's workers, libuv's pool, V8's collector threads): read from
   * /proc/<pid>/stat by this process, so reading it costs the child nothing.
   */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The node options of a station started as the service is (packaging/hes-gate.service, the
 * Dockerfile, `npm start`; a packaging test keeps them equal): the no-stall and city figures
 * start their stations with them.
 */
export const STATION_NODE_OPTIONS = '--max-semi-space-size=16';

export function childNodeOptions(): string[] {
  const extra = process.env['BENCH_CHILD_NODE_OPTIONS'];
  return extra === undefined || extra.trim() === '' ? [] : extra.trim().split(/\s+/);
}

export async function startServer(mode: ServerMode): Promise<ServerChild> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./server-main.js', import.meta.url)), [mode], {
    // fastify warns once per process that hes-gate's `disableRequestLogging` option is deprecated
    // (FSTDEP023); known, and not what a benchmark reports.
    // With the service's node options (its young-generation cap), the baseline too: the
    // collector's helper threads are part of the CPU a figure counts, and differ with its size.
    execArgv: ['--disable-warning=FSTDEP023', STATION_NODE_OPTIONS, ...childNodeOptions()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let isReady = false;
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      for (const p of pending.values()) p.reject(new Error(`server-main ${mode} exited`));
      pending.clear();
      r();
    }),
  );
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!isReady) reject(new Error(`server-main ${mode} exited (${code}) before it was ready`));
    });
    child.on('message', (m: { type?: string; id?: number; ok?: boolean; value?: unknown; error?: string; url?: string; pid?: number }) => {
      if (m.type === 'ready') {
        isReady = true;
        resolve({ url: m.url!, pid: m.pid! });
        return;
      }
      const p = pending.get(m.id!);
      if (p === undefined) return;
      pending.delete(m.id!);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
  });
  const call = <T>(cmd: ChildRequest['cmd'], arg?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, cmd, arg } satisfies ChildRequest);
    });
  return {
    mode,
    url: ready.url,
    pid: ready.pid,
    call,
    async cpuMs() {
      const fromProc = procCpuMs(ready.pid);
      if (fromProc !== undefined) return fromProc;
      // Not Linux: the child's own getrusage (RUSAGE_SELF, also every thread), over IPC.
      const u = await call<{ user: number; system: number }>('cpu');
      return (u.user + u.system) / 1000;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await call('close').catch(() => undefined);
      await exited;
      clearTimeout(timer);
    },
  };
}

let ticksPerSecond: number | undefined;

/**
 * utime + stime of a process (all its threads) from /proc/<pid>/stat, ms; undefined where there
 * is no /proc. Resolution: one clock tick (10 ms at the usual CLK_TCK of 100).
 */
export function procCpuMs(pid: number, file = `/proc/${pid}/stat`): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  // Fields after the command name (which may hold spaces, in parentheses): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

/**
 * CPU time per thread name (`comm`: MainThread, the workers' threads, V8Worker for the
 * collector's and compiler's helpers, libuv-worker for the thread pool), ms, summed over the
 * threads of each name: says which thread a difference in `procCpuMs` came from.
 */
export function procThreadsCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ms = procCpuMs(pid, `/proc/${pid}/task/${tid}/stat`);
      if (ms !== undefined) out.set(comm, (out.get(comm) ?? 0) + ms);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** POST a JSON body, resolve with the parsed answer (for warm-ups and checks). */
export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: res.status, json };
}
