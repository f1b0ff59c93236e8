/**
 * Loading the configuration: schema defaults ← a JSON file ← `HES_GATE_*` variables, each
 * value validated once (an error names the key and what was expected), then frozen.
 * `sources` says where every effective value came from, for `hes-gate config check`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HesGateError } from '../errors.js';
import type { GatePolicy } from '../policy/types.js';
import type { Config, GateConfig } from './schema.js';
import { Secret } from './sensitive-value.js';

/** The package's root directory (where `config/` and `devices/` ship), from source or from dist/. */
export const PACKAGE_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

type Check = (v: unknown) => string | null;

const int = (min: number, max: number): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `an integer from ${min} to ${max}`;
const num = (min: number, max: number): Check => (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : `a number from ${min} to ${max}`;
const str: Check = (v) => (typeof v === 'string' && v.length > 0 ? null : 'a non-empty string');
/** A station id goes into logs, journal exports and Prometheus target labels: keep it plain. */
const stationIdCheck: Check = (v) => (typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v) ? null : 'a station id: letters, digits, dot, dash or underscore, at most 63 characters');
const nullableStr: Check = (v) => (v === null || (typeof v === 'string' && v.length > 0) ? null : 'a non-empty string or null');
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'true or false');
const oneOf = (...values: string[]): Check => (v) =>
  typeof v === 'string' && values.includes(v) ? null : `one of ${values.map((x) => `"${x}"`).join(', ')}`;
const baseUrl: Check = (v) => {
  if (v === null) return null;
  if (typeof v !== 'string') return 'an http(s) URL or null';
  try {
    const u = new URL(v);
    if (u.username !== '' || u.password !== '') return 'an http(s) URL without credentials in it (use HES_GATE_MINISTRY_USER and HES_GATE_MINISTRY_PASSWORD)';
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'an http(s) URL or null';
  } catch {
    return 'an http(s) URL or null';
  }
};
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const profileHours: Check = (v) => {
  const expected = 'an object of profile → [{"from":"HH:MM","to":"HH:MM"}, …]';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return expected;
  for (const windows of Object.values(v)) {
    if (!Array.isArray(windows)) return expected;
    for (const w of windows) {
      if (typeof w !== 'object' || w === null || !HHMM.test(String(w.from)) || !HHMM.test(String(w.to))) return expected;
    }
  }
  return null;
};

const POLICY_DEFAULTS: GatePolicy = {
  deadlineMs: 150,
  ministryUnavailable: 'last-known',
  lastKnownMaxAgeMs: 6 * 3_600_000,
  lastKnownFallback: 'deny',
  repeatTapWindowMs: 0,
  profileHours: {},
  requirement: 'none',
  negativeTestValidityMs: 72 * 3_600_000,
  utcOffsetMinutes: 180,
};

const POLICY_CHECKS: Record<keyof GatePolicy, Check> = {
  deadlineMs: int(10, 10_000),
  ministryUnavailable: oneOf('deny', 'pass', 'last-known'),
  lastKnownMaxAgeMs: int(0, 30 * 86_400_000),
  lastKnownFallback: oneOf('deny', 'pass'),
  repeatTapWindowMs: int(0, 86_400_000),
  profileHours,
  requirement: oneOf('none', 'vaccinated', 'vaccinated-or-immune', 'vaccinated-immune-or-tested'),
  negativeTestValidityMs: int(0, 30 * 86_400_000),
  utcOffsetMinutes: int(-720, 840),
};

/** Every leaf setting except gates: default and check. Secrets are not here: env only. */
const LEAVES: Record<string, [unknown, Check]> = {
  environment: ['simulator', oneOf('simulator', 'test', 'live')],
  'server.host': ['127.0.0.1', str],
  'server.port': [8080, int(0, 65535)],
  'server.bodyLimitBytes': [8192, int(256, 16 * 1024 * 1024)],
  'ministry.baseUrl': [null, baseUrl],
  'ministry.user': [null, nullableStr],
  'ministry.connections': [8, int(1, 256)],
  'ministry.connectTimeoutMs': [1000, int(10, 60_000)],
  'ministry.headersTimeoutMs': [2000, int(10, 120_000)],
  'ministry.bodyTimeoutMs': [2000, int(10, 120_000)],
  'ministry.caFile': [null, nullableStr],
  'resilience.consecutiveFailures': [5, int(1, 1000)],
  'resilience.failureRate': [0.5, num(0.01, 1)],
  'resilience.minimumCalls': [20, int(1, 100_000)],
  'resilience.baseEjectionMs': [1000, int(10, 600_000)],
  'resilience.maxEjectionMs': [30_000, int(10, 3_600_000)],
  'resilience.maxRetries': [1, int(0, 5)],
  'resilience.maxInFlight': [64, int(1, 10_000)],
  'simulator.host': ['127.0.0.1', str],
  'simulator.port': [0, int(0, 65535)],
  'simulator.codesFile': [null, nullableStr],
  'cache.risklessTtlMs': [600_000, int(0, 86_400_000)],
  'cache.riskyTtlMs': [21_600_000, int(0, 30 * 86_400_000)],
  'cache.notFoundTtlMs': [60_000, int(0, 86_400_000)],
  'cache.expiredTtlMs': [3_600_000, int(0, 30 * 86_400_000)],
  'cache.lastKnownMaxAgeMs': [86_400_000, int(0, 30 * 86_400_000)],
  'cache.maxEntries': [1_000_000, int(100, 20_000_000)],
  'gates.requireKnown': [false, bool],
  'refresher.enabled': [true, bool],
  'refresher.callsPerSecond': [1, num(0.001, 100)],
  'refresher.backoffInitialMs': [2000, int(10, 3_600_000)],
  'refresher.backoffMaxMs': [300_000, int(10, 86_400_000)],
  dataDir: ['./data', str],
  stationId: [hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63) || 'station', stationIdCheck],
  'journal.enabled': [true, bool],
  'journal.retentionDays': [30, int(1, 3650)],
  'journal.maxBytes': [536_870_912, int(1_048_576, 1_099_511_627_776)],
  'journal.flushIntervalMs': [250, int(10, 60_000)],
  devicesDir: [null, nullableStr],
  'log.level': ['info', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')],
};

/** Environment variables that override a leaf (the operator's scripting contract). */
const ENV_LEAVES: Record<string, [string, (raw: string) => unknown]> = {
  HES_GATE_HOST: ['server.host', (s) => s],
  HES_GATE_PORT: ['server.port', (s) => (/^\d+$/.test(s) ? Number(s) : s)],
  HES_GATE_MINISTRY_URL: ['ministry.baseUrl', (s) => s],
  HES_GATE_MINISTRY_USER: ['ministry.user', (s) => s],
  HES_GATE_LOG_LEVEL: ['log.level', (s) => s],
  HES_GATE_DATA_DIR: ['dataDir', (s) => s],
  HES_GATE_STATION_ID: ['stationId', (s) => s],
  HES_GATE_ENVIRONMENT: ['environment', (s) => s],
};

/** Secrets: the variable itself, or `<NAME>_FILE` naming a file that holds it. */
const SECRETS: Record<string, string> = {
  HES_GATE_MINISTRY_PASSWORD: 'ministry.password',
  HES_GATE_API_TOKEN: 'server.apiToken',
  HES_GATE_ADMIN_TOKEN: 'server.adminToken',
  HES_GATE_SIMULATOR_TOKEN: 'simulator.controlToken',
};

export type ValueSource = 'default' | `file ${string}` | `env ${string}`;

export interface LoadedConfig {
  config: Readonly<Config>;
  /** Where each effective value came from, by dotted key. */
  sources: Map<string, ValueSource>;
  /** The configuration file read, if any. */
  file: string | null;
}

function invalid(key: string, expected: string, got: unknown, where: string): HesGateError {
  if (typeof got === 'string' && /:\/\/[^/]*@/.test(got)) got = '<a URL with credentials, not shown>';
  const shown = typeof got === 'string' ? JSON.stringify(got.length > 40 ? `${got.slice(0, 40)}…` : got) : JSON.stringify(got);
  return new HesGateError('HG_CONFIG_INVALID', `${key} (${where}) must be ${expected}, got ${shown}`, {
    details: { key, expected },
  });
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !(k in cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

/** Reject keys the schema does not know: a typo must not silently become a default. */
function checkUnknownKeys(obj: unknown, prefix: string, where: string): void {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw invalid(prefix || '(root)', 'a JSON object', obj, where);
  }
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (key === 'gates.defaults' || key === 'gates.list') continue;
    if (key in LEAVES) continue;
    const isBranch = Object.keys(LEAVES).some((leaf) => leaf.startsWith(`${key}.`)) || key === 'gates';
    if (!isBranch) throw new HesGateError('HG_CONFIG_INVALID', `${key} (${where}) is not a known setting`, { details: { key } });
    checkUnknownKeys(v, key, where);
  }
}

function policyFrom(raw: unknown, base: GatePolicy, keyPrefix: string, where: string): GatePolicy {
  if (raw === undefined) return base;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(keyPrefix, 'an object of policy settings', raw, where);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(raw)) {
    const check = POLICY_CHECKS[k as keyof GatePolicy];
    if (check === undefined) {
      throw new HesGateError('HG_CONFIG_INVALID', `${keyPrefix}.${k} (${where}) is not a known gate policy setting`, {
        details: { key: `${keyPrefix}.${k}` },
      });
    }
    const problem = check(v);
    if (problem !== null) throw invalid(`${keyPrefix}.${k}`, problem, v, where);
    out[k] = v;
  }
  return out as unknown as GatePolicy;
}

const GATE_KEYS = new Set(['id', 'group', 'policy', 'readers', 'reader', 'controller']);

function gatesFrom(raw: unknown, defaults: GatePolicy, where: string): GateConfig[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw invalid('gates.list', 'an array of gates', raw, where);
  const seen = new Set<string>();
  return raw.map((g: unknown, i: number) => {
    const key = `gates.list[${i}]`;
    if (typeof g !== 'object' || g === null) throw invalid(key, 'an object with at least "id"', g, where);
    const gate = g as Record<string, unknown>;
    for (const k of Object.keys(gate)) {
      if (!GATE_KEYS.has(k)) throw new HesGateError('HG_CONFIG_INVALID', `${key}.${k} (${where}) is not a known gate setting`, { details: { key: `${key}.${k}` } });
    }
    if (typeof gate.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(gate.id)) {
      throw invalid(`${key}.id`, 'a gate id of 1–64 letters, digits, ".", "_" or "-"', gate.id, where);
    }
    if (seen.has(gate.id)) throw invalid(`${key}.id`, 'unique among gates', gate.id, where);
    seen.add(gate.id);
    if (gate.group !== undefined && (typeof gate.group !== 'string' || gate.group.length === 0)) {
      throw invalid(`${key}.group`, 'a non-empty string', gate.group, where);
    }
    const readers = gate.readers ?? (gate.reader === undefined ? [] : [gate.reader]);
    if (!Array.isArray(readers)) throw invalid(`${key}.readers`, 'an array of readers', readers, where);
    return {
      id: gate.id,
      group: (gate.group as string | undefined) ?? gate.id,
      policy: policyFrom(gate.policy, defaults, `${key}.policy`, where),
      readers,
      controller: gate.controller ?? null,
    };
  });
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `cannot read configuration file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `configuration file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function readSecret(env: NodeJS.ProcessEnv, name: string): [Secret, ValueSource] | null {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '') {
    throw new HesGateError('HG_CONFIG_INVALID', `set either ${name} or ${name}_FILE, not both`, { details: { key: name } });
  }
  if (direct !== undefined && direct !== '') return [new Secret(direct), `env ${name}`];
  if (file === undefined || file === '') return null;
  let value: string;
  try {
    value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `cannot read secret file named by ${name}_FILE: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  if (value.length === 0) throw new HesGateError('HG_CONFIG_INVALID', `the secret file named by ${name}_FILE is empty`, { details: { key: name } });
  return [new Secret(value), `env ${name}_FILE`];
}

/** Resolve HES_GATE_CONFIG: a path, or a bare environment name (`default`, `test`, `live`). */
export function configFilePath(env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  const name = env.HES_GATE_CONFIG;
  if (name === undefined || name === '') return resolve(PACKAGE_ROOT, 'config', 'default.json');
  if (/^[a-z][a-z0-9-]*$/.test(name)) return resolve(PACKAGE_ROOT, 'config', `${name}.json`);
  return isAbsolute(name) ? name : resolve(cwd, name);
}

function deepFreeze<T>(obj: T): T {
  if (typeof obj === 'object' && obj !== null && !(obj instanceof Secret)) {
    Object.freeze(obj);
    for (const v of Object.values(obj)) deepFreeze(v);
  }
  return obj;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** A configuration object instead of a file (tests); env overrides still apply. */
  overrides?: Record<string, unknown>;
  /** Read no file: defaults (and overrides, env) only. */
  noFile?: boolean;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const sources = new Map<string, ValueSource>();
  const file = opts.noFile ? null : configFilePath(env);
  const raw = (file === null ? {} : readJson(file)) as Record<string, unknown>;
  const fileLabel = file === null ? 'overrides' : `file ${file}`;
  checkUnknownKeys(raw, '', fileLabel);
  if (opts.overrides !== undefined) checkUnknownKeys(opts.overrides, '', 'overrides');

  const out: Record<string, unknown> = {};
  for (const [path, [def, check]] of Object.entries(LEAVES)) {
    let value = def;
    let source: ValueSource = 'default';
    let where = 'default';
    const fromFile = getPath(raw, path);
    if (fromFile !== undefined) {
      value = fromFile;
      source = `file ${file}`;
      where = fileLabel;
    }
    const fromOverride = opts.overrides === undefined ? undefined : getPath(opts.overrides, path);
    if (fromOverride !== undefined) {
      value = fromOverride;
      source = 'file overrides' as ValueSource;
      where = 'overrides';
    }
    for (const [name, [leaf, parse]] of Object.entries(ENV_LEAVES)) {
      const envValue = env[name];
      if (leaf === path && envValue !== undefined && envValue !== '') {
        value = parse(envValue);
        source = `env ${name}`;
        where = `env ${name}`;
      }
    }
    const problem = check(value);
    if (problem !== null) throw invalid(path, problem, value, where);
    setPath(out, path, value);
    sources.set(path, source);
  }

  const baseUrlValue = getPath(out, 'ministry.baseUrl');
  if (typeof baseUrlValue === 'string' && !baseUrlValue.endsWith('/')) setPath(out, 'ministry.baseUrl', `${baseUrlValue}/`);

  for (const [name, path] of Object.entries(SECRETS)) {
    const secret = readSecret(env, name);
    setPath(out, path, secret === null ? null : secret[0]);
    sources.set(path, secret === null ? 'default' : secret[1]);
  }

  const rawGates = { ...((raw.gates as Record<string, unknown> | undefined) ?? {}), ...((opts.overrides?.gates as Record<string, unknown> | undefined) ?? {}) };
  const defaults = policyFrom(rawGates.defaults, POLICY_DEFAULTS, 'gates.defaults', fileLabel);
  sources.set('gates.defaults', rawGates.defaults === undefined ? 'default' : (`file ${file ?? 'overrides'}` as ValueSource));
  const list = gatesFrom(rawGates.list, defaults, fileLabel);
  sources.set('gates.list', rawGates.list === undefined ? 'default' : (`file ${file ?? 'overrides'}` as ValueSource));
  setPath(out, 'gates.defaults', defaults);
  setPath(out, 'gates.list', list);

  const config = out as unknown as Config;
  if (config.ministry.baseUrl !== null && config.environment === 'simulator') {
    // A real address with the simulator label would mislead operators reading logs and /readyz.
    config.environment = /\/test\//.test(config.ministry.baseUrl) ? 'test' : 'live';
    sources.set('environment', 'default');
  }
  return { config: deepFreeze(config), sources, file };
}

/** The effective configuration as printable JSON, secrets shown as set/unset only. */
export function redactedConfig(config: Config): unknown {
  return JSON.parse(JSON.stringify(config));
}
