/**
 * A real mosquitto broker for the vehicle list's push notice: on a free port, in a temp dir of its
 * own (config, password file; no persistence, nothing under /var), in the foreground, stopped and
 * removed after. Readiness is its "running" log line (written once the listener is open).
 *
 * With `users`, anonymous clients are refused and each user:password is checked against a
 * password file in mosquitto's PBKDF2-SHA512 format (`$7$`), written here. As root, the broker
 * keeps the current user (`user` directive) so it can read the 0700 temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findServer, freePort, signalAndWait, waitForLine } from '../city/redis-harness.js';

export const MOSQUITTO = findServer('mosquitto');
export const hasMosquitto = MOSQUITTO !== null;

export interface MosquittoOptions {
  /** user → password; anonymous clients are refused when given. */
  users?: Record<string, string>;
}

/** One password file line, as mosquitto_passwd writes it (PBKDF2-SHA512, 101 rounds). */
function passwordLine(user: string, password: string): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${user}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export class Mosquitto {
  private proc: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    if (MOSQUITTO === null) throw new Error('mosquitto is not installed (Debian: apt-get install mosquitto)');
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-mosquitto-'));
    const m = new Mosquitto(await freePort(), dir);
    const users = options.users;
    const conf = [
      `listener ${m.port} 127.0.0.1`,
      'persistence false',
      'log_dest stderr',
      ...(process.getuid?.() === 0 ? [`user ${userInfo().username}`] : []),
    ];
    if (users === undefined) conf.push('allow_anonymous true');
    else {
      writeFileSync(join(dir, 'passwd'), Object.entries(users).map(([u, p]) => passwordLine(u, p)).join('\n') + '\n', { mode: 0o600 });
      conf.push('allow_anonymous false', `password_file ${join(dir, 'passwd')}`);
    }
    writeFileSync(join(dir, 'mosquitto.conf'), conf.join('\n') + '\n');
    await m.spawn();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Start (again) on this port; retained messages are not kept across a restart (no persistence). */
  async spawn(): Promise<void> {
    const proc = spawn(MOSQUITTO!, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    // stderr: mosquitto's stdout is block-buffered on a pipe, its stderr is not.
    try {
      await waitForLine(proc, / running/, `mosquitto :${this.port}`, 20_000, proc.stderr);
    } catch (err) {
      // Not ready in time: it must not outlive the test run.
      await signalAndWait(proc, 'SIGKILL');
      throw err;
    }
    // Keep reading: a full pipe would stall the broker.
    proc.stderr!.resume();
  }

  /** The broker is gone (SIGKILL): clients see their connection drop. Start it again on the same port with `spawn`. */
  async kill(): Promise<void> {
    await signalAndWait(this.proc, 'SIGKILL');
  }

  async stop(): Promise<void> {
    await signalAndWait(this.proc, 'SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
