/**
 * Tiny field checkers shared by the profile loader and the station config validator. Each
 * takes the object, the key and its dotted path; on a bad value it calls `fail(path, expected)`,
 * which throws the caller's coded error (HG_PROFILE_INVALID or HG_CONFIG_INVALID).
 */

export type Fail = (key: string, expected: string, got?: unknown) => never;

export type Obj = Record<string, unknown>;

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(fail: Fail, parent: Obj, key: string, path: string): Obj {
  const value = parent[key];
  if (!isObj(value)) fail(path, 'an object', value);
  return value;
}

export function optObj(fail: Fail, parent: Obj, key: string, path: string): Obj | undefined {
  if (parent[key] === undefined || parent[key] === null) return undefined;
  return obj(fail, parent, key, path);
}

export function str(fail: Fail, parent: Obj, key: string, path: string, options: { default?: string; nonEmpty?: boolean } = {}): string {
  const value = parent[key] ?? options.default;
  if (typeof value !== 'string' || (options.nonEmpty !== false && value.length === 0)) {
    fail(path, 'a non-empty string', value);
  }
  return value;
}

export function optStr(fail: Fail, parent: Obj, key: string, path: string): string | undefined {
  return parent[key] === undefined ? undefined : str(fail, parent, key, path);
}

export function int(
  fail: Fail,
  parent: Obj,
  key: string,
  path: string,
  options: { min?: number; max?: number; default?: number } = {},
): number {
  const value = parent[key] ?? options.default;
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function optInt(fail: Fail, parent: Obj, key: string, path: string, options: { min?: number; max?: number } = {}): number | undefined {
  return parent[key] === undefined ? undefined : int(fail, parent, key, path, options);
}

export function oneOf<T extends string | number>(fail: Fail, parent: Obj, key: string, path: string, allowed: readonly T[], fallback?: T): T {
  const value = parent[key] ?? fallback;
  if (!allowed.includes(value as T)) fail(path, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  return value as T;
}

export function onlyKeys(fail: Fail, value: Obj, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(path ? `${path}.${key}` : key, `no such key (allowed: ${allowed.join(', ')})`, value[key]);
  }
}
