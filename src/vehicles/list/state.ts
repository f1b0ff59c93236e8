/**
 * A whole list at one version (types.ts, ListState): built at the hub from its bound cards'
 * fingerprints and values, looked up on board for every card tap.
 *
 *   entries {fp, value} ──radix order──> sorted ──same fp: stricter value──> ListState
 *                                                                              └─ lookup(fp): binary search, no allocation
 */
import { compactPalette, listValue, PaletteBuilder, stricter } from './entry-value.js';
import { MAX_FINGERPRINT_BITS } from './list-key.js';
import { radixOrder } from './radix-order.js';
import type { EntryValue, ListState } from './types.js';

/** One bound card as the hub lists it: its fingerprint (ListKey.fingerprint) and its value. */
export interface ListEntry {
  fp: number;
  value: EntryValue;
}

/** Throws RangeError unless `bits` is a fingerprint length (1–52). */
export function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_FINGERPRINT_BITS) throw new RangeError(`fingerprint bits must be 1–${MAX_FINGERPRINT_BITS}`);
}

/** True when fp is an integer in [0, 2^bits). */
export function isFingerprint(fp: number, bits: number): boolean {
  return Number.isInteger(fp) && fp >= 0 && fp < 2 ** bits;
}

/**
 * Build a state from entries in any order. Two entries with one fingerprint become one with the
 * stricter value (entry-value.ts, stricter()): the two are different cards the vehicle cannot tell
 * apart (or one card listed twice), and a false deny is a card the operator can look at while a
 * false pass lets a risky or expired code through unseen. Pass validUntil is rounded down to the
 * minute. Throws RangeError for a fingerprint outside [0, 2^bits) or an invalid value.
 */
export function buildState(bits: number, entries: Iterable<ListEntry>): ListState {
  checkBits(bits);
  const palette = new PaletteBuilder();
  let fps = new Float64Array(1024);
  let vals = new Uint16Array(1024);
  let n = 0;
  const rounded = new Map<EntryValue, number>();
  for (const e of entries) {
    if (!isFingerprint(e.fp, bits)) throw new RangeError(`a fingerprint is not an integer below 2^${bits}`);
    if (n === fps.length) {
      const f = new Float64Array(n * 2);
      f.set(fps);
      fps = f;
      const v = new Uint16Array(n * 2);
      v.set(vals);
      vals = v;
    }
    // The hub hands the same few value objects to most entries: check and index each once.
    let vi = rounded.get(e.value);
    if (vi === undefined) {
      vi = palette.index(listValue(e.value));
      if (rounded.size < 4096) rounded.set(e.value, vi);
    }
    fps[n] = e.fp;
    vals[n] = vi;
    n++;
  }
  return fromColumns(bits, fps.subarray(0, n), vals.subarray(0, n), palette.palette);
}

/** Sort and dedupe columns whose values are already valid list values in `palette`. */
function fromColumns(bits: number, fps: Float64Array, vals: Uint16Array, palette: EntryValue[]): ListState {
  const order = radixOrder(fps);
  const outFps = new Float64Array(fps.length);
  const outVals = new Uint16Array(fps.length);
  const byKey = new PaletteBuilder();
  for (const v of palette) byKey.index(v);
  let m = 0;
  for (let i = 0; i < order.length; i++) {
    const p = order[i]!;
    const fp = fps[p]!;
    if (m > 0 && outFps[m - 1] === fp) {
      outVals[m - 1] = byKey.index(stricter(byKey.palette[outVals[m - 1]!]!, byKey.palette[vals[p]!]!));
      continue;
    }
    outFps[m] = fp;
    outVals[m] = vals[p]!;
    m++;
  }
  const values = outVals.slice(0, m);
  return { bits, fps: outFps.slice(0, m), values, palette: compactPalette(values, byKey.palette) };
}

/** The position of `fp` in a sorted Float64Array, or -1. */
export function indexOf(fps: Float64Array, fp: number): number {
  let lo = 0;
  let hi = fps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = fps[mid]!;
    if (v < fp) lo = mid + 1;
    else if (v > fp) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/** The value of a fingerprint, or undefined when no listed card has it: the vehicle's hot path (no allocation). */
export function lookup(state: ListState, fp: number): EntryValue | undefined {
  const i = indexOf(state.fps, fp);
  return i < 0 ? undefined : state.palette[state.values[i]!];
}
