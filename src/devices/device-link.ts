/**
 * One serial port kept open: opens by path, and when the port fails to open or closes under
 * us (USB unplugged → `close` with `disconnected`, socat killed; a hung-up line's end-of-file
 * too, see hangup-binding.ts) retries with exponential back-off until `stop()`. serialport has
 * no reconnect of its own. Never throws after start: every failure becomes a state change.
 *
 *   closed ──start──> (open attempt) ──ok──> open ──close/error──> reconnecting ──delay──> (open attempt)
 *                           └──fail──> reconnecting
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../types.js';
import { closeQuietly, type LineSettings, type OpenPort, type SerialPortLike } from './serial-port.js';

export type LinkState = 'open' | 'closed' | 'reconnecting';

export interface Backoff {
  /** First retry delay, ms. @default 250 */
  initialMs: number;
  /** Longest delay, ms. @default 10000 */
  maxMs: number;
  /** Delay multiplier per failed attempt. @default 2 */
  factor: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 10_000, factor: 2 };

export interface LinkStatus {
  state: LinkState;
  /** When the state last changed (epoch ms). */
  since: number;
  /** Last open/port error message (no payload data ever appears in these). */
  lastError?: string;
  /** Successful opens after the first. */
  reopens: number;
  /** Failed open attempts since the last successful open. */
  failedAttempts: number;
}

export interface DeviceLinkEvents {
  state: [status: LinkStatus];
  open: [port: SerialPortLike];
  data: [chunk: Buffer];
  closed: [];
}

export class DeviceLink extends EventEmitter<DeviceLinkEvents> {
  private port: SerialPortLike | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private opens = 0;
  private readonly current: LinkStatus;

  constructor(
    readonly path: string,
    private readonly settings: LineSettings,
    private readonly openPort: OpenPort,
    private readonly backoff: Backoff,
    private readonly clock: Clock,
  ) {
    super();
    this.current = { state: 'closed', since: clock(), reopens: 0, failedAttempts: 0 };
  }

  status(): LinkStatus {
    return { ...this.current };
  }

  /** The open port, or undefined. */
  get openedPort(): SerialPortLike | undefined {
    return this.port?.isOpen ? this.port : undefined;
  }

  /** Resolves after the first attempt, whether it opened or scheduled a retry. */
  start(): Promise<void> {
    this.stopped = false;
    return this.attempt();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const port = this.port;
    this.port = undefined;
    if (port) {
      await closeQuietly(port);
      port.removeAllListeners('data');
      this.emit('closed');
    }
    this.setState('closed');
  }

  private attempt(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return Promise.resolve();
    let port: SerialPortLike;
    try {
      port = this.openPort(this.path, this.settings);
    } catch (err) {
      this.retry(err);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      port.on('error', (err) => {
        this.current.lastError = err.message;
      });
      port.open((err) => {
        if (err) {
          this.retry(err);
        } else if (this.stopped) {
          void closeQuietly(port);
        } else {
          this.port = port;
          port.on('data', (chunk) => this.emit('data', chunk));
          port.on('close', (closeErr) => this.onClose(port, closeErr ?? undefined));
          if (this.opens++ > 0) this.current.reopens += 1;
          this.current.failedAttempts = 0;
          this.emit('open', port);
          this.setState('open');
        }
        resolve();
      });
    });
  }

  private onClose(port: SerialPortLike, err: (Error & { disconnected?: boolean }) | undefined): void {
    if (this.port !== port) return;
    this.port = undefined;
    port.removeAllListeners('data');
    this.emit('closed');
    if (this.stopped) return;
    this.retry(err ?? new Error('port closed'));
  }

  private retry(err: unknown): void {
    if (this.stopped) return;
    this.current.lastError = err instanceof Error ? err.message : String(err);
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * this.backoff.factor ** this.current.failedAttempts);
    this.current.failedAttempts += 1;
    this.setState('reconnecting');
    this.timer = setTimeout(() => void this.attempt(), delay);
  }

  private setState(state: LinkState): void {
    const changed = this.current.state !== state;
    if (changed) {
      this.current.state = state;
      this.current.since = this.clock();
    }
    if (changed || state === 'reconnecting') this.emit('state', this.status());
  }
}
