/**
 * Real pseudo-terminal pairs for serial tests: `socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B`.
 * The station opens A as its device; the test plays the device on B. Killing socat looks like
 * an unplug to whoever holds A. Waits on socat's own "starting data transfer loop", never on time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { describe, it } from 'vitest';

export const hasSocat = spawnSync('sh', ['-c', 'command -v socat'], { encoding: 'utf8' }).status === 0;

/** A describe block that needs socat: loud skip outside CI, a failure in CI. */
export function describeSerial(name: string, body: () => void): void {
  if (hasSocat) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('needs socat (apt-get install -y socat)', () => {
        throw new Error('socat is not installed: serial tests cannot run, and CI must not skip them');
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED serial tests "${name}": socat is not installed (apt-get install -y socat) ***\n`);
  describe.skip(name, body);
}

export interface PtyPair {
  /** The end the station opens. */
  a: string;
  /** The end the test plays the device on. */
  b: string;
  process: ChildProcess;
  /** Kill socat and wait for it to exit (the "unplug"). */
  kill(): Promise<void>;
}

export function startPtyPair(a: string, b: string, timeoutMs = 5000): Promise<PtyPair> {
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pair: PtyPair = {
    a,
    b,
    process: child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`socat did not start within ${timeoutMs} ms: ${log}`));
    }, timeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      log += text;
      if (log.includes('starting data transfer loop')) {
        clearTimeout(timer);
        resolve(pair);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited (${code}) before starting: ${log}`));
    });
  });
}

/** Wait for `event` (optionally the first one matching `predicate`), failing after `timeoutMs`. */
export function once<T = unknown>(emitter: EventEmitter, event: string, options: { timeoutMs?: number; match?: (value: T) => boolean } = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const listener = (value: T) => {
      if (options.match && !options.match(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

/** The device side of a pair: write what a device sends, read what the station sends it. */
export class Peer {
  private received = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  /** Called for every chunk; e.g. a Modbus board echoing requests. */
  onData: ((chunk: Buffer) => void) | undefined;

  private constructor(readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.onData?.(chunk);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(path: string): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: 9600, autoOpen: false, lock: false });
      port.open((err) => (err ? reject(err) : resolve(new Peer(port))));
    });
  }

  write(bytes: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, (err) => (err ? reject(err) : this.port.drain(() => resolve())));
    });
  }

  /** Resolves with exactly `n` bytes received (and removes them), failing after `timeoutMs`. */
  async take(n: number, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} bytes, got ${this.received.length}: ${this.received.toString('hex')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const out = this.received.subarray(0, n);
    this.received = this.received.subarray(n);
    return Buffer.from(out);
  }

  pending(): Buffer {
    return Buffer.from(this.received);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}
