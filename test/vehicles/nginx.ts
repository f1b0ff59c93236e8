/**
 * A real nginx serving a directory as static files (issue 23: "served by any static server"), for
 * the vehicle tests and bench/vehicle-catchup.ts: on a free port, in a temp dir of its own (prefix,
 * pid, logs, temp paths — nothing under /var), in the foreground (`daemon off`), stopped and
 * removed after. Range requests, ETag and Last-Modified are nginx's own, as in production.
 *
 * One process by default (`master_process off`): nothing is left behind if the test runner dies,
 * and no worker changes user, so a 0700 temp dir is readable whether the tests run as root (CI)
 * or not. With `workers` > 0 it runs as in production (a master and workers); as root the workers
 * then run as the current user and group (`user` directive), not nginx's default `nobody`, who
 * could not read the temp dir; as another user the directive is left out (nginx ignores it with
 * a warning when it cannot change user).
 *
 * Readiness is the pid file: nginx writes it after its listening sockets are open.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findServer, freePort, signalAndWait } from '../city/redis-harness.js';

export const NGINX = findServer('nginx');
export const hasNginx = NGINX !== null;

export interface NginxOptions {
  /** The directory served at `/` (e.g. a hub's vehicles.publishDir). */
  root: string;
  /** Worker processes; 0: one process, no master (the default). */
  workers?: number;
  /** More directives inside `server { }`. */
  serverDirectives?: string[];
}

/** One access-log line: what the vehicle asked and what nginx answered. */
export interface NginxRequest {
  method: string;
  uri: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  /** The Range header, '' when none. */
  range: string;
  /** Whether the request carried an Authorization header (its value is never logged). */
  authorized: boolean;
}

export class Nginx {
  private proc: ChildProcess | null = null;
  private stderr = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly options: NginxOptions,
  ) {}

  static async start(options: NginxOptions): Promise<Nginx> {
    if (NGINX === null) throw new Error('nginx is not installed (Debian: apt-get install nginx-light)');
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-nginx-'));
    const n = new Nginx(await freePort(), dir, options);
    n.writeConfig();
    await n.spawn();
    return n;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  private get pidFile(): string {
    return join(this.dir, 'nginx.pid');
  }

  private get accessLogFile(): string {
    return join(this.dir, 'access.log');
  }

  private writeConfig(): void {
    const d = this.dir;
    const workers = this.options.workers ?? 0;
    for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(d, 'temp', t), { recursive: true });
    const user = workers > 0 && process.getuid?.() === 0 ? [`user ${userInfo().username} ${groupName()};`] : [];
    const conf = [
      'daemon off;',
      workers > 0 ? `master_process on;\nworker_processes ${workers};` : 'master_process off;',
      ...user,
      `pid ${this.pidFile};`,
      'error_log stderr notice;',
      'events { worker_connections 256; }',
      'http {',
      '  types { application/json json; application/octet-stream hgvl; }',
      '  default_type application/octet-stream;',
      '  map $http_authorization $hg_auth { "" no; default yes; }',
      "  log_format hg '$request_method $uri $status $body_bytes_sent \"$http_range\" $hg_auth';",
      `  access_log ${this.accessLogFile} hg;`,
      ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t === 'body' ? 'client_body' : t}_temp_path ${join(d, 'temp', t)};`),
      '  sendfile on;',
      '  server {',
      `    listen 127.0.0.1:${this.port};`,
      `    root ${this.options.root};`,
      '    location / { try_files $uri =404; }',
      ...(this.options.serverDirectives ?? []).map((l) => `    ${l}`),
      '  }',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(d, 'nginx.conf'), conf);
  }

  private async spawn(): Promise<void> {
    rmSync(this.pidFile, { force: true });
    this.stderr = '';
    const proc = spawn(NGINX!, ['-p', this.dir, '-c', join(this.dir, 'nginx.conf'), '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-8192)));
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    await new Promise<void>((resolve, reject) => {
      const watcher = watch(this.dir, () => check());
      const timer = setTimeout(() => done(new Error(`nginx :${this.port} wrote no pid file within 20 s:\n${this.stderr}`)), 20_000);
      const onExit = (code: number | null): void => done(new Error(`nginx :${this.port} exited (${code}) before it was ready:\n${this.stderr}`));
      const check = (): void => {
        if (existsSync(this.pidFile) && readFileSync(this.pidFile, 'utf8').trim() !== '') done();
      };
      const done = (err?: Error): void => {
        watcher.close();
        clearTimeout(timer);
        proc.off('exit', onExit);
        if (err === undefined) resolve();
        else reject(err);
      };
      proc.once('exit', onExit);
      check();
    });
  }

  /** Every request nginx logged so far, oldest first. */
  requests(): NginxRequest[] {
    if (!existsSync(this.accessLogFile)) return [];
    return readFileSync(this.accessLogFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const m = /^(\S+) (\S+) (\d+) (\d+) "(.*)" (yes|no)$/.exec(l);
        if (m === null) throw new Error(`nginx access log: unexpected line ${l}`);
        return { method: m[1]!, uri: m[2]!, status: Number(m[3]), bytes: Number(m[4]), range: m[5] === '-' ? '' : m[5]!, authorized: m[6] === 'yes' };
      });
  }

  /**
   * Resolve once `check` holds for the access log: checked now and on each change of nginx's
   * directory. nginx logs a request when it ends, and a request whose connection was cut may end
   * after a later one: a test reading the log after a cut waits for the line it expects.
   */
  until(what: string, check: (requests: NginxRequest[]) => boolean, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const watcher = watch(this.dir, () => test());
      const timer = setTimeout(() => done(new Error(`nginx: ${what} not in its access log within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error): void => {
        watcher.close();
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      const test = (): void => {
        if (check(this.requests())) done();
      };
      test();
    });
  }

  /** SIGKILL: the static server is gone (a test of a vehicle whose file server is down). */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Start again on the same port, with the same directory. */
  async restart(): Promise<void> {
    if (this.proc !== null) await this.signal('SIGTERM');
    await this.spawn();
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    // A master's workers leave with it on SIGTERM, but outlive a SIGKILL of it: kill them too, by their ids.
    const workers = p !== null && p.exitCode === null && p.signalCode === null && sig === 'SIGKILL' && (this.options.workers ?? 0) > 0 ? childPids(p.pid!) : [];
    await signalAndWait(p, sig, workers);
    this.proc = null;
  }
}

function childPids(pid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l !== '').map(Number);
}

function groupName(): string {
  const r = spawnSync('id', ['-gn'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'root';
}
