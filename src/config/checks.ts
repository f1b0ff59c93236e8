/**
 * The one kit of value checks, used by the configuration (settings, gates and their devices)
 * and by the device profile loader.
 *
 * A `Check` says what was expected, or null when the value is fine; the table of settings is
 * built from them. The field readers below (`str`, `int`, …) apply a check to one key of a
 * parsed object and call the caller's `fail`, which throws its own coded error
 * (HG_CONFIG_INVALID or HG_PROFILE_INVALID) naming the key.
 *
 * Keys are read as own properties only: a file saying `"constructor"` or `"__proto__"` names an
 * unknown key, never something inherited from Object.prototype.
 */
import { HesGateError } from '../errors.js';

export type Check = (v: unknown) => string | null;

export type Fail = (key: string, expected: string, got?: unknown) => never;

export type Obj = Record<string, unknown>;

/** Checks of single values, each returning what was expected or null. */
export const must = {
  int: (min: number, max: number): Check => (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `an integer from ${min} to ${max}`,
  num: (min: number, max: number): Check => (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : `a number from ${min} to ${max}`,
  str: ((v) => (typeof v === 'string' && v.length > 0 ? null : 'a non-empty string')) as Check,
  anyStr: ((v) => (typeof v === 'string' ? null : 'a string')) as Check,
  nullableStr: ((v) => (v === null || (typeof v === 'string' && v.length > 0) ? null : 'a non-empty string or null')) as Check,
  bool: ((v) => (typeof v === 'boolean' ? null : 'true or false')) as Check,
  oneOf: (...values: ReadonlyArray<string | number>): Check => (v) =>
    (typeof v === 'string' || typeof v === 'number') && values.includes(v) ? null : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`,
};

/** A short, safe description of a value for an error message (long strings cut). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * HG_CONFIG_INVALID for a setting: the key, where the value came from (file, env variable),
 * what was expected and what was found (a URL with credentials in it is not shown).
 */
export function configInvalid(key: string, expected: string, got: unknown, where: string): HesGateError {
  if (typeof got === 'string' && /:\/\/[^/]*@/.test(got)) got = '<a URL with credentials, not shown>';
  const shown = typeof got === 'number' || typeof got === 'boolean' ? String(got) : describeValue(got);
  return new HesGateError('HG_CONFIG_INVALID', `${key} (${where}) must be ${expected}, got ${shown}`, { details: { key, expected } });
}

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value of an own property; undefined when absent or only inherited. */
export function own(parent: Obj, key: string): unknown {
  return Object.hasOwn(parent, key) ? parent[key] : undefined;
}

/** Apply `check` to `parent[key]` (or `fallback` when absent); fail naming `path` when it does not hold. */
export function field<T>(fail: Fail, parent: Obj, key: string, path: string, check: Check, fallback?: T): T {
  const value = own(parent, key) ?? fallback;
  const expected = check(value);
  if (expected !== null) fail(path, expected, value);
  return value as T;
}

export function obj(fail: Fail, parent: Obj, key: string, path: string): Obj {
  const value = own(parent, key);
  if (!isObj(value)) fail(path, 'an object', value);
  return value;
}

export function optObj(fail: Fail, parent: Obj, key: string, path: string): Obj | undefined {
  const value = own(parent, key);
  if (value === undefined || value === null) return undefined;
  return obj(fail, parent, key, path);
}

export function str(fail: Fail, parent: Obj, key: string, path: string, options: { default?: string; nonEmpty?: boolean } = {}): string {
  return field(fail, parent, key, path, options.nonEmpty === false ? must.anyStr : must.str, options.default);
}

export function optStr(fail: Fail, parent: Obj, key: string, path: string): string | undefined {
  return own(parent, key) === undefined ? undefined : str(fail, parent, key, path);
}

export function int(fail: Fail, parent: Obj, key: string, path: string, options: { min?: number; max?: number; default?: number } = {}): number {
  return field(fail, parent, key, path, must.int(options.min ?? 0, options.max ?? Number.MAX_SAFE_INTEGER), options.default);
}

export function optInt(fail: Fail, parent: Obj, key: string, path: string, options: { min?: number; max?: number } = {}): number | undefined {
  return own(parent, key) === undefined ? undefined : int(fail, parent, key, path, options);
}

export function oneOf<T extends string | number>(fail: Fail, parent: Obj, key: string, path: string, allowed: readonly T[], fallback?: T): T {
  return field(fail, parent, key, path, must.oneOf(...allowed), fallback);
}

/** Fail on the first key not in `allowed` (own keys only; `__proto__` in JSON is an own key). */
export function onlyKeys(fail: Fail, value: Obj, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(path ? `${path}.${key}` : key, `no such key (allowed: ${allowed.join(', ')})`, value[key]);
  }
}
