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
 * Builds a state from entries added in any order, one column per field (no object per card: a
 * hub adds every bound card of its city, 8M in a large one). Two entries with one fingerprint
 * become one with the stricter value (entry-value.ts, stricter()): they are different cards the
 * vehicle cannot tell apart (or one card listed twice), and a false deny is a card the operator
 * can look at while a false pass lets a risky or expired code through unseen. A pass's
 * validUntil is rounded down to the minute.
 */
export class StateBuilder {
  readonly #bits: number;
  readonly #palette = new PaletteBuilder();
  /** The hub hands the same few value objects to most cards: each is checked and indexed once. */
  readonly #seen = new Map<EntryValue, number>();
  #fps = new Float64Array(1024);
  #vals = new Uint16Array(1024);
  #n = 0;

  constructor(bits: number) {
    checkBits(bits);
    this.#bits = bits;
  }

  /** Add one card. RangeError for a fingerprint outside [0, 2^bits) or a value that is not an EntryValue. */
  add(fp: number, value: EntryValue): void {
    if (!isFingerprint(fp, this.#bits)) throw new RangeError(`a fingerprint is not an integer below 2^${this.#bits}`);
    let vi = this.#seen.get(value);
    if (vi === undefined) {
      vi = this.#palette.index(listValue(value));
      if (this.#seen.size < 4096) this.#seen.set(value, vi);
    }
    if (this.#n === this.#fps.length) {
      const f = new Float64Array(this.#n * 2);
      f.set(this.#fps);
      this.#fps = f;
      const v = new Uint16Array(this.#n * 2);
      v.set(this.#vals);
      this.#vals = v;
    }
    this.#fps[this.#n] = fp;
    this.#vals[this.#n++] = vi;
  }

  /** The state of everything added so far: sorted, deduped, its palette compacted. */
  build(): ListState {
    return fromColumns(this.#bits, this.#fps.subarray(0, this.#n), this.#vals.subarray(0, this.#n), this.#palette.palette);
  }
}

/** A state from entries in any order (StateBuilder). RangeError for a fingerprint outside [0, 2^bits) or an invalid value. */
export function buildState(bits: number, entries: Iterable<ListEntry>): ListState {
  const b = new StateBuilder(bits);
  for (const e of entries) b.add(e.fp, e.value);
  return b.build();
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

/** Throws RangeError unless `fps` is strictly increasing fingerprints of `bits` bits. */
export function checkSorted(fps: Float64Array, bits: number, what: string): void {
  for (let i = 0; i < fps.length; i++) {
    if (!isFingerprint(fps[i]!, bits) || (i > 0 && fps[i]! <= fps[i - 1]!)) throw new RangeError(`${what} are not strictly increasing integers below 2^${bits}`);
  }
}

/** Throws RangeError unless every index of `values` is in the palette. */
export function checkValues(values: Uint16Array, paletteSize: number, what: string): void {
  for (let i = 0; i < values.length; i++) if (values[i]! >= paletteSize) throw new RangeError(`${what} has a value outside its palette`);
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
