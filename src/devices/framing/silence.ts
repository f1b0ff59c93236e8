/**
 * Frames separated by silence ("data as is" scanners, Modbus RTU): a frame ends when no byte
 * has arrived for `silenceMs`. The timer is injectable so tests drive it without sleeping.
 * A frame growing past `maxLength` is dropped as `oversize`, with the rest of it, up to the
 * next silence; bytes still pending when the stream ends are dropped as `partial`.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { systemTimers } from '../../system-timers.js';
import type { Timers } from '../../types.js';
import { checkPositiveInt, emptyDropCounts, type DropReason } from './types.js';

export interface SilenceFramerOptions {
  /** Inter-byte silence that ends a frame, in ms (20–50 for scanners). */
  silenceMs: number;
  /** Longest accepted frame, in bytes. */
  maxLength: number;
  /** @default real timers */
  timers?: Timers;
}

export class SilenceFramer extends Transform {
  readonly dropped = emptyDropCounts();
  private readonly silenceMs: number;
  private readonly maxLength: number;
  private readonly timers: Timers;
  private chunks: Buffer[] = [];
  private length = 0;
  private discarding = false;
  private timer: unknown = undefined;

  constructor(options: SilenceFramerOptions) {
    super({ readableObjectMode: true });
    checkPositiveInt('silenceMs', options.silenceMs);
    checkPositiveInt('maxLength', options.maxLength);
    this.silenceMs = options.silenceMs;
    this.maxLength = options.maxLength;
    this.timers = options.timers ?? systemTimers;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.discarding) {
      this.chunks.push(chunk);
      this.length += chunk.length;
      if (this.length > this.maxLength) {
        this.discard('oversize', this.length);
        this.discarding = true;
        this.chunks = [];
        this.length = 0;
      }
    }
    this.restartTimer();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.stopTimer();
    if (this.length > 0) this.discard('partial', this.length);
    this.chunks = [];
    this.length = 0;
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this.stopTimer();
    callback(error);
  }

  private restartTimer(): void {
    this.stopTimer();
    this.timer = this.timers.setTimeout(() => this.onSilence(), this.silenceMs);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onSilence(): void {
    this.timer = undefined;
    this.discarding = false;
    if (this.length === 0) return;
    const frame = Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    this.push(frame);
  }

  private discard(why: DropReason, bytes: number): void {
    this.dropped[why] += 1;
    this.emit('drop', { why, bytes });
  }
}
