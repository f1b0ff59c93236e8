/**
 * Real Redis servers for the city tier's tests (and bench/city.ts): redis-server and redis-sentinel processes on
 * free ports in temporary directories, started, killed, frozen (SIGSTOP) and resumed by the
 * test. Readiness is read from each process's own log line, never waited for with a sleep.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasRedis = spawnSync('sh', ['-c', 'command -v redis-server && command -v redis-sentinel']).status === 0;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A server's program on this machine: on the PATH, or in /usr/sbin (Debian's servers, off a user's PATH); null when absent. */
export function findServer(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name} || { test -x /usr/sbin/${name} && echo /usr/sbin/${name}; }`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return path === '' ? null : path;
}

/**
 * Send `sig` to a server process and resolve when it has exited (at once when it is not running);
 * `alsoKill` are pids that outlive it on that signal (an nginx master's workers), SIGKILLed after it.
 */
export async function signalAndWait(p: ChildProcess | null, sig: NodeJS.Signals, alsoKill: readonly number[] = []): Promise<void> {
  if (p === null || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill(sig);
  for (const pid of alsoKill) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await gone;
}

/** Resolve when `proc` prints a line matching `ready` (on stdout, or `stream`); reject when it exits first or after `timeoutMs`. */
export function waitForLine(proc: ChildProcess, ready: RegExp, what: string, timeoutMs = 20_000, stream = proc.stdout): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (b: Buffer): void => {
      seen = (seen + b.toString()).slice(-8192);
      if (ready.test(seen)) done();
    };
    const onExit = (code: number | null): void => done(new Error(`${what} exited (${code}) before it was ready:\n${seen}`));
    const timer = setTimeout(() => done(new Error(`${what} was not ready within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      stream?.off('data', onData);
      proc.off('exit', onExit);
      if (err === undefined) resolve();
      else reject(err);
    };
    stream?.on('data', onData);
    proc.once('exit', onExit);
  });
}

export interface RedisServerOptions {
  /** Keep data across restart (AOF, fsync always). @default true */
  appendOnly?: boolean;
  /** ACL file (users.acl format); the default user stays open when unset. */
  aclFile?: string;
  /** Start as a replica of this port. */
  replicaOf?: number;
  /** More `--name value` arguments. */
  args?: string[];
}

export class RedisServer {
  proc: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-redis-'));
    const s = new RedisServer(await freePort(), dir, options);
    await s.#spawn();
    return s;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async #spawn(): Promise<void> {
    const o = this.options;
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', o.appendOnly === false ? 'no' : 'yes', '--appendfsync', 'always',
      '--daemonize', 'no', '--logfile', '', '--protected-mode', 'no',
      ...(o.aclFile === undefined ? [] : ['--aclfile', o.aclFile]),
      ...(o.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(o.replicaOf)]),
      ...(o.args ?? []),
    ];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    await waitForLine(proc, /Ready to accept connections/, `redis-server :${this.port}`);
  }

  /** Start again on the same port and directory (data kept when append-only). */
  async restart(): Promise<void> {
    if (this.proc !== null) await this.kill();
    await this.#spawn();
  }

  /** SIGKILL: no shutdown, no save. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (p === null) return;
    this.proc = null;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGCONT');
    p.kill('SIGKILL');
    await gone;
  }

  /** SIGSTOP: connections stay open, nothing answers. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class RedisSentinel {
  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly proc: ChildProcess,
  ) {}

  /** One Sentinel watching the primary at `primaryPort` as `name`, quorum 1, quick failover. */
  static async start(primaryPort: number, name = 'hes-gate', downAfterMs = 1000): Promise<RedisSentinel> {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-sentinel-'));
    const port = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'protected-mode no',
        `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 1`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const proc = spawn('redis-sentinel', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForLine(proc, /\+monitor master/, `redis-sentinel :${port}`);
    return new RedisSentinel(port, dir, proc);
  }

  /** Resolve when this Sentinel has switched `name` to a new primary; gives the new port. */
  switched(name = 'hes-gate', timeoutMs = 30_000): Promise<number> {
    return new Promise((resolve, reject) => {
      let seen = '';
      const onData = (b: Buffer): void => {
        seen = (seen + b.toString()).slice(-8192);
        const m = new RegExp(`\\+switch-master ${name} \\S+ \\d+ \\S+ (\\d+)`).exec(seen);
        if (m !== null) done(undefined, Number(m[1]));
      };
      const timer = setTimeout(() => done(new Error(`no failover within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
      const done = (err?: Error, port?: number): void => {
        clearTimeout(timer);
        this.proc.stdout?.off('data', onData);
        if (err === undefined) resolve(port!);
        else reject(err);
      };
      this.proc.stdout?.on('data', onData);
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const gone = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGKILL');
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
