/**
 * Frames between a start and an end byte, with an optional checksum (RDM6300:
 * `02` + 10 ASCII-hex data + 2 ASCII-hex XOR checksum + `03`). Emits the payload between the
 * markers with the checksum removed.
 *
 *   bytes outside a frame ............ dropped as `garbage` (one drop per run)
 *   a new start inside a frame ....... the unfinished frame is dropped as `partial`
 *   a frame longer than maxLength .... dropped as `oversize`
 *   a checksum that does not match ... dropped as `checksum`
 */
import { Transform, type TransformCallback } from 'node:stream';
import { checkPositiveInt, emptyDropCounts, type DropReason } from './types.js';

/** `xor-hex`: the last 2 payload chars are the hex XOR of the bytes the other hex chars spell. */
export type FrameChecksum = 'none' | 'xor-hex';

export interface StartEndFramerOptions {
  start: number;
  end: number;
  /** Longest payload between the markers, checksum included, in bytes. */
  maxLength: number;
  /** @default 'none' */
  checksum?: FrameChecksum;
  /** Drop an unfinished frame when the next byte comes this many ms after the last. @default off */
  staleMs?: number;
  /** @default Date.now */
  now?: () => number;
}

const HEX = /^(?:[0-9A-Fa-f]{2})+$/;

export function xorHexChecksum(dataHex: string): number {
  let sum = 0;
  for (let i = 0; i < dataHex.length; i += 2) sum ^= Number.parseInt(dataHex.slice(i, i + 2), 16);
  return sum;
}

export class StartEndFramer extends Transform {
  readonly dropped = emptyDropCounts();
  private readonly options: Required<Omit<StartEndFramerOptions, 'staleMs'>> & { staleMs: number | undefined };
  private readonly payload: Buffer;
  private length = 0;
  private inFrame = false;
  /** Inside an oversize frame: skip to its end without counting the rest as garbage. */
  private skipping = false;
  private lastByteAt = 0;

  constructor(options: StartEndFramerOptions) {
    super({ readableObjectMode: true });
    for (const key of ['start', 'end'] as const) {
      const v = options[key];
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new TypeError(`"${key}" must be a byte (0-255)`);
    }
    if (options.start === options.end) throw new TypeError('"start" and "end" must differ');
    checkPositiveInt('maxLength', options.maxLength);
    const checksum = options.checksum ?? 'none';
    if (checksum !== 'none' && checksum !== 'xor-hex') throw new TypeError('"checksum" must be "none" or "xor-hex"');
    if (options.staleMs !== undefined) checkPositiveInt('staleMs', options.staleMs);
    this.options = { ...options, checksum, now: options.now ?? Date.now, staleMs: options.staleMs };
    this.payload = Buffer.alloc(options.maxLength);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const { start, end, maxLength, staleMs, now } = this.options;
    const at = now();
    if (staleMs !== undefined && this.inFrame && at - this.lastByteAt > staleMs) this.abandon();
    this.lastByteAt = at;

    let garbage = 0;
    for (const byte of chunk) {
      if (byte === start) {
        if (garbage > 0) this.discard('garbage', garbage);
        garbage = 0;
        if (this.inFrame) this.abandon();
        this.inFrame = true;
        this.skipping = false;
        this.length = 0;
      } else if (this.inFrame && byte === end) {
        this.inFrame = false;
        this.complete();
      } else if (this.inFrame) {
        if (this.length === maxLength) {
          this.discard('oversize', this.length + 1);
          this.inFrame = false;
          this.skipping = true;
        } else {
          this.payload[this.length++] = byte;
        }
      } else if (this.skipping) {
        if (byte === end) this.skipping = false;
      } else {
        garbage += 1;
      }
    }
    if (garbage > 0) this.discard('garbage', garbage);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.inFrame) this.abandon();
    callback();
  }

  private abandon(): void {
    this.discard('partial', this.length + 1);
    this.inFrame = false;
    this.length = 0;
  }

  private complete(): void {
    const frame = Buffer.from(this.payload.subarray(0, this.length));
    this.length = 0;
    if (this.options.checksum === 'none') {
      this.push(frame);
      return;
    }
    const text = frame.toString('latin1');
    if (text.length < 4 || !HEX.test(text)) {
      this.discard('garbage', frame.length + 2);
      return;
    }
    const data = text.slice(0, -2);
    if (xorHexChecksum(data) !== Number.parseInt(text.slice(-2), 16)) {
      this.discard('checksum', frame.length + 2);
      return;
    }
    this.push(Buffer.from(data, 'latin1'));
  }

  private discard(why: DropReason, bytes: number): void {
    this.dropped[why] += 1;
    this.emit('drop', { why, bytes });
  }
}
