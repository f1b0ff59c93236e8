/**
 * Frames ending in a delimiter (`data CR LF`). Unlike serialport's DelimiterParser it has a
 * maximum frame length: a line longer than `maxLength` is dropped as `oversize` up to its
 * delimiter, and the buffer never holds more than `maxLength + delimiter.length` bytes.
 * With `staleMs`, bytes left from a frame that stopped half-way (a reader unplugged
 * mid-line) are dropped as `partial` instead of being glued to the next frame.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { checkPositiveInt, emptyDropCounts, type DropReason } from './types.js';

export interface DelimiterFramerOptions {
  /** Bytes that end a frame; not part of the frame. */
  delimiter: Buffer;
  /** Longest accepted frame, in bytes, without the delimiter. */
  maxLength: number;
  /** Drop an unfinished frame when the next byte comes this many ms after the last. @default off */
  staleMs?: number;
  /** Clock for `staleMs`. @default Date.now */
  now?: () => number;
}

export class DelimiterFramer extends Transform {
  readonly dropped = emptyDropCounts();
  private readonly delimiter: Buffer;
  private readonly maxLength: number;
  private readonly staleMs: number | undefined;
  private readonly now: () => number;
  private buffer = Buffer.alloc(0);
  private discarding = false;
  private lastByteAt = 0;

  constructor(options: DelimiterFramerOptions) {
    super({ readableObjectMode: true });
    if (!Buffer.isBuffer(options.delimiter) || options.delimiter.length === 0) {
      throw new TypeError('"delimiter" must be a non-empty Buffer');
    }
    checkPositiveInt('maxLength', options.maxLength);
    if (options.staleMs !== undefined) checkPositiveInt('staleMs', options.staleMs);
    this.delimiter = options.delimiter;
    this.maxLength = options.maxLength;
    this.staleMs = options.staleMs;
    this.now = options.now ?? Date.now;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const at = this.now();
    if (this.staleMs !== undefined && this.buffer.length > 0 && at - this.lastByteAt > this.staleMs) {
      if (!this.discarding) this.discard('partial', this.buffer.length);
      this.buffer = Buffer.alloc(0);
      this.discarding = false;
    }
    this.lastByteAt = at;

    let data = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let position: number;
    while ((position = data.indexOf(this.delimiter)) !== -1) {
      const frame = data.subarray(0, position);
      data = data.subarray(position + this.delimiter.length);
      if (this.discarding) {
        this.discarding = false;
      } else if (frame.length > this.maxLength) {
        this.discard('oversize', frame.length);
      } else if (frame.length > 0) {
        this.push(Buffer.from(frame));
      }
    }
    const keep = this.delimiter.length - 1;
    if (data.length > this.maxLength + keep) {
      if (!this.discarding) this.discard('oversize', data.length - keep);
      this.discarding = true;
      data = data.subarray(data.length - keep);
    }
    this.buffer = Buffer.from(data);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.buffer.length > 0 && !this.discarding) this.discard('partial', this.buffer.length);
    this.buffer = Buffer.alloc(0);
    callback();
  }

  private discard(why: DropReason, bytes: number): void {
    this.dropped[why] += 1;
    this.emit('drop', { why, bytes });
  }
}
