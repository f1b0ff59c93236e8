/**
 * One version to the next (types.ts, ListDelta): the hub diffs its last two states; a vehicle
 * applies the delta to the state it holds, then checks the result's digest against the file's
 * header (digest.ts), so a delta applied to the wrong base never goes unnoticed.
 *
 *   prev ─┐                          state ─┐
 *         ├─ diff ─> removed, upserted       ├─ applyDelta (one merge, O(n + changes)) ─> next
 *   next ─┘          (+ their values)  delta ─┘
 */
import { compactPalette, PaletteBuilder, valueKey } from './entry-value.js';
import { checkSorted, checkValues } from './state.js';
import type { EntryValue, ListDelta, ListState } from './types.js';

/** Each palette index's position in one shared list of distinct values: equal values, equal ids. */
function canonicalIds(palette: readonly EntryValue[], ids: Map<string, number>): Int32Array {
  const out = new Int32Array(palette.length);
  palette.forEach((v, i) => {
    const k = valueKey(v);
    let id = ids.get(k);
    if (id === undefined) {
      id = ids.size;
      ids.set(k, id);
    }
    out[i] = id;
  });
  return out;
}

/** What changed from `prev` to `next` (same fingerprint length; RangeError otherwise). */
export function diff(prev: ListState, next: ListState): ListDelta {
  if (prev.bits !== next.bits) throw new RangeError(`a delta joins states of one fingerprint length (${prev.bits} and ${next.bits} bits): publish a snapshot`);
  const ids = new Map<string, number>();
  const prevIds = canonicalIds(prev.palette, ids);
  const nextIds = canonicalIds(next.palette, ids);
  const removed: number[] = [];
  const upserted: number[] = [];
  const upsertedValues: number[] = [];
  const a = prev.fps;
  const b = next.fps;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const fa = i < a.length ? a[i]! : Infinity;
    const fb = j < b.length ? b[j]! : Infinity;
    if (fa < fb) {
      removed.push(fa);
      i++;
    } else if (fb < fa) {
      upserted.push(fb);
      upsertedValues.push(next.values[j]!);
      j++;
    } else {
      if (prevIds[prev.values[i]!] !== nextIds[next.values[j]!]) {
        upserted.push(fb);
        upsertedValues.push(next.values[j]!);
      }
      i++;
      j++;
    }
  }
  const values = Uint16Array.from(upsertedValues);
  return { removed: Float64Array.from(removed), upserted: Float64Array.from(upserted), values, palette: compactPalette(values, next.palette) };
}

/** Throws RangeError unless the delta's lists are sorted fingerprints of `bits` bits, each upsert with a value of its palette. */
export function checkDelta(delta: ListDelta, bits: number): void {
  checkSorted(delta.removed, bits, "a delta's removed fingerprints");
  checkSorted(delta.upserted, bits, "a delta's upserted fingerprints");
  if (delta.values.length !== delta.upserted.length) throw new RangeError('a delta has not one value per upserted fingerprint');
  checkValues(delta.values, delta.palette.length, 'a delta');
}

/**
 * The state after `delta`: one merge of the state with the removed and the upserted fingerprints.
 * A removal of a fingerprint the state does not hold changes nothing (the digest check that
 * follows says whether the result is the version the hub built). Throws RangeError for a delta
 * whose lists are not sorted fingerprints of the state's length or whose values are out of its palette.
 */
export function applyDelta(state: ListState, delta: ListDelta): ListState {
  const { removed, upserted } = delta;
  checkDelta(delta, state.bits);
  const builder = new PaletteBuilder();
  const fromState = Uint16Array.from(state.palette, (v) => builder.index(v));
  const fromDelta = Uint16Array.from(delta.palette, (v) => builder.index(v));
  const fps = state.fps;
  const outFps = new Float64Array(fps.length + upserted.length);
  const outVals = new Uint16Array(outFps.length);
  let m = 0;
  let i = 0;
  let r = 0;
  let u = 0;
  while (i < fps.length || u < upserted.length) {
    const fs = i < fps.length ? fps[i]! : Infinity;
    const fu = u < upserted.length ? upserted[u]! : Infinity;
    if (fu <= fs) {
      outFps[m] = fu;
      outVals[m++] = fromDelta[delta.values[u]!]!;
      u++;
      if (fu === fs) i++;
      continue;
    }
    while (r < removed.length && removed[r]! < fs) r++;
    if (r < removed.length && removed[r] === fs) r++;
    else {
      outFps[m] = fs;
      outVals[m++] = fromState[state.values[i]!]!;
    }
    i++;
  }
  const values = outVals.slice(0, m);
  return { bits: state.bits, fps: outFps.slice(0, m), values, palette: compactPalette(values, builder.palette) };
}
