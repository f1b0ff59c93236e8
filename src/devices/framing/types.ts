/**
 * What every framing Transform shares: it turns a byte stream into frames (one `Buffer` per
 * readable object) and counts what it throws away. Buffers are bounded by `maxLength`, so a
 * reader spewing bytes without a terminator costs a fixed amount of memory, not more.
 */

/** Why a framer threw bytes away. */
export type DropReason = 'garbage' | 'oversize' | 'partial' | 'checksum';

/** Emitted as `'drop'` by every framer. `bytes` is how many bytes went. */
export interface FrameDrop {
  why: DropReason;
  bytes: number;
}

export type { Timers } from '../../types.js';

export function emptyDropCounts(): Record<DropReason, number> {
  return { garbage: 0, oversize: 0, partial: 0, checksum: 0 };
}

export function checkPositiveInt(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`"${name}" must be a positive integer, got ${String(value)}`);
  }
}
