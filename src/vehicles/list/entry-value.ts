/**
 * A listed card's value (types.ts, EntryValue): its checks, its canonical text, which of two is
 * stricter, and the palette a state or file stores each distinct value in once.
 */
import { PROFILE_PATTERN } from '../../policy/card-profile.js';
import type { EntryClass, EntryValue } from './types.js';

const MINUTE_MS = 60_000;

/**
 * How strict each class is when two cards share a fingerprint: a vehicle cannot tell the two
 * apart, so the shared entry must not let either card through on the other's looser verdict.
 * Every deny class beats `unknown` (which the outage policy may pass), which beats `pass`; among
 * the denials the order only has to be fixed, so the result does not depend on input order.
 */
const SEVERITY: ReadonlyMap<EntryClass, number> = new Map<EntryClass, number>([
  ['pass', 0],
  ['unknown', 1],
  ['not-found', 2],
  ['expired', 3],
  ['risky', 4],
]);

/** What is wrong with a value, or null when it is a valid EntryValue (validUntil a whole minute, only for `pass`). */
export function valueProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'a value is not an object';
  const { cls, validUntil, profile } = v as Record<string, unknown>;
  if (typeof cls !== 'string' || !SEVERITY.has(cls as EntryClass)) return 'a value has an unknown class';
  if (typeof profile !== 'string' || !PROFILE_PATTERN.test(profile)) return 'a value has an invalid profile';
  if (validUntil === null) return null;
  if (cls !== 'pass') return 'only a pass has a validUntil';
  if (typeof validUntil !== 'number' || !Number.isSafeInteger(validUntil) || validUntil < 0 || validUntil % MINUTE_MS !== 0) return 'a validUntil is not a whole minute of epoch ms';
  return null;
}

/**
 * The value the hub lists: validUntil rounded *down* to the minute (a vehicle stops a code up to
 * 59 s early, never late). Throws RangeError for a value that is not an EntryValue.
 */
export function listValue(v: EntryValue): EntryValue {
  const rounded = v.validUntil === null ? null : Math.floor(v.validUntil / MINUTE_MS) * MINUTE_MS;
  const out: EntryValue = { cls: v.cls, validUntil: rounded, profile: v.profile };
  const problem = valueProblem(out);
  if (problem !== null) throw new RangeError(problem);
  return out;
}

/** The canonical text of a value: equal values, and only they, have equal keys. */
export function valueKey(v: EntryValue): string {
  return JSON.stringify([v.cls, v.validUntil, v.profile]);
}

/** The stricter of two values (see SEVERITY); a total order, so it does not depend on which comes first. */
export function stricter(a: EntryValue, b: EntryValue): EntryValue {
  const sa = SEVERITY.get(a.cls)!;
  const sb = SEVERITY.get(b.cls)!;
  if (sa !== sb) return sa > sb ? a : b;
  // Same class: the earlier end holds for both cards (null is the latest: the horizon).
  if (a.validUntil !== b.validUntil) {
    if (a.validUntil === null) return b;
    if (b.validUntil === null) return a;
    return a.validUntil < b.validUntil ? a : b;
  }
  return a.profile <= b.profile ? a : b;
}

/** Largest palette: its indices are a Uint16Array. */
export const MAX_PALETTE = 65_536;

/** Distinct values in insertion order, each with its index. */
export class PaletteBuilder {
  readonly palette: EntryValue[] = [];
  readonly #index = new Map<string, number>();

  /** The value's index, adding it when new. Throws RangeError past MAX_PALETTE distinct values. */
  index(v: EntryValue): number {
    const key = valueKey(v);
    let i = this.#index.get(key);
    if (i === undefined) {
      if (this.palette.length >= MAX_PALETTE) throw new RangeError(`a list holds at most ${MAX_PALETTE} distinct values`);
      i = this.palette.length;
      this.palette.push({ cls: v.cls, validUntil: v.validUntil, profile: v.profile });
      this.#index.set(key, i);
    }
    return i;
  }
}

/**
 * Keep only the palette values `values` uses (rewriting the indices in place), most used first,
 * so a file's index stream is mostly small numbers. Ties keep the canonical order, so the same
 * state always gives the same palette and the same file bytes.
 */
export function compactPalette(values: Uint16Array, palette: readonly EntryValue[]): EntryValue[] {
  const uses = new Float64Array(palette.length);
  for (let i = 0; i < values.length; i++) uses[values[i]!]!++;
  const keys = palette.map(valueKey);
  const used = palette.map((_, i) => i).filter((i) => uses[i]! > 0);
  used.sort((a, b) => uses[b]! - uses[a]! || (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  // Two indices holding the same value become one.
  const out = new PaletteBuilder();
  const remap = new Uint16Array(palette.length);
  for (const i of used) remap[i] = out.index(palette[i]!);
  for (let i = 0; i < values.length; i++) values[i] = remap[values[i]!]!;
  return out.palette;
}
