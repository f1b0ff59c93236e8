/**
 * Loading the configuration: defaults (settings.ts) ← a JSON file ← `HES_GATE_*` variables,
 * each value validated once (an error names the key and what was expected), gates and their
 * devices included (gates.ts), then frozen. `sources` says where every effective value came
 * from, for `hes-gate config check`. `serve`, `config check` and every other command load the
 * configuration here, so they accept and refuse exactly the same files.
 */
import { resolve } from 'node:path';
import { HesGateError } from '../errors.js';
import { loadProfiles, type Profiles } from './device-profiles.js';
import { configInvalid, isObj, own } from './checks.js';
import { gatesFrom, policyFrom } from './gates.js';
import type { GatePolicy } from '../policy/types.js';
import type { Config } from './schema.js';
import { Secret } from './sensitive-value.js';
import { ENV_LEAVES, LEAVES, POLICY_DEFAULTS, SECRETS } from './settings.js';
import { configFilePath, PACKAGE_ROOT, readConfigFile, readSecret, type ValueSource } from './sources.js';

export { configFilePath, PACKAGE_ROOT, type ValueSource } from './sources.js';

export interface LoadedConfig {
  config: Readonly<Config>;
  /** Where each effective value came from, by dotted key. */
  sources: Map<string, ValueSource>;
  /** The configuration file read, if any. */
  file: string | null;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** A configuration object instead of a file (tests); env overrides still apply. */
  overrides?: Record<string, unknown>;
  /** Read no file: defaults (and overrides, env) only. */
  noFile?: boolean;
}

/** The directory of device profiles the configuration names (the package's `devices/` by default). */
export function profilesDir(config: Pick<Config, 'devicesDir'>): string {
  return resolve(PACKAGE_ROOT, config.devicesDir ?? 'devices');
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (!isObj(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

const BRANCHES = new Set([...LEAVES.keys()].flatMap((leaf) => leaf.split('.').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('.'))));
BRANCHES.add('gates');

/**
 * Reject keys the schema does not know: a typo must not silently become a default. Own keys
 * are looked up in Maps, so `__proto__`, `constructor` or `toString` are unknown like any typo.
 */
function checkUnknownKeys(obj: unknown, prefix: string, where: string): void {
  if (!isObj(obj)) throw configInvalid(prefix || '(root)', 'a JSON object', obj, where);
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (key === 'gates.defaults' || key === 'gates.list' || LEAVES.has(key)) continue;
    if (!BRANCHES.has(key)) throw new HesGateError('HG_CONFIG_INVALID', `${key} (${where}) is not a known setting`, { details: { key } });
    checkUnknownKeys(v, key, where);
  }
}

function hasDevices(list: unknown): boolean {
  return Array.isArray(list) && list.some((g) => isObj(g) && ['reader', 'readers', 'controller'].some((k) => own(g, k) !== undefined && own(g, k) !== null));
}

function deepFreeze<T>(obj: T): T {
  if (typeof obj === 'object' && obj !== null && !(obj instanceof Secret)) {
    Object.freeze(obj);
    for (const v of Object.values(obj)) deepFreeze(v);
  }
  return obj;
}

/**
 * What no single cache or policy setting can see. A RISKY status held for less time than a
 * RISKLESS one would let a holder turned risky be asked about again (and passed on a stale
 * answer) sooner than a riskless one. And a gate's last-known age beyond the cache's keeps
 * nothing longer: statuses are gone from the cache after `cache.lastKnownMaxAgeMs`, so the
 * gate's longer age would be cut short without a word — refused here, naming both values.
 */
function crossCheckCache(config: Config, sources: Map<string, ValueSource>): void {
  const { cache } = config;
  if (cache.riskyTtlMs < cache.risklessTtlMs) {
    throw configInvalid('cache.riskyTtlMs', `at least cache.risklessTtlMs (${cache.risklessTtlMs}, ${sources.get('cache.risklessTtlMs') ?? 'default'}): a RISKY status must be held at least as long as a RISKLESS one`, cache.riskyTtlMs, sources.get('cache.riskyTtlMs') ?? 'default');
  }
  const policies: Array<[string, GatePolicy, string]> = [['gates.defaults', config.gates.defaults, sources.get('gates.defaults') ?? 'default']];
  config.gates.list.forEach((g, i) => policies.push([`gates.list[${i}].policy`, g.policy, sources.get('gates.list') ?? 'default']));
  for (const [key, policy, where] of policies) {
    if (policy.ministryUnavailable === 'last-known' && policy.lastKnownMaxAgeMs > cache.lastKnownMaxAgeMs) {
      throw configInvalid(
        `${key}.lastKnownMaxAgeMs`,
        `at most cache.lastKnownMaxAgeMs (${cache.lastKnownMaxAgeMs}, ${sources.get('cache.lastKnownMaxAgeMs') ?? 'default'}), how long statuses are kept for last-known decisions: raise that, or lower this`,
        policy.lastKnownMaxAgeMs,
        where,
      );
    }
  }
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const sources = new Map<string, ValueSource>();
  const file = opts.noFile ? null : configFilePath(env);
  const raw = (file === null ? {} : readConfigFile(file, env.HES_GATE_CONFIG)) as Record<string, unknown>;
  const fileLabel = file === null ? 'overrides' : `file ${file}`;
  checkUnknownKeys(raw, '', fileLabel);
  if (opts.overrides !== undefined) checkUnknownKeys(opts.overrides, '', 'overrides');

  const out: Record<string, unknown> = {};
  for (const [path, [def, check]] of LEAVES) {
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
    for (const [name, [leaf, parse]] of ENV_LEAVES) {
      const envValue = env[name];
      if (leaf === path && envValue !== undefined && envValue !== '') {
        value = parse(envValue);
        source = `env ${name}`;
        where = `env ${name}`;
      }
    }
    const problem = check(value);
    if (problem !== null) throw configInvalid(path, problem, value, where);
    setPath(out, path, value);
    sources.set(path, source);
  }

  const baseUrlValue = getPath(out, 'ministry.baseUrl');
  if (typeof baseUrlValue === 'string' && !baseUrlValue.endsWith('/')) setPath(out, 'ministry.baseUrl', `${baseUrlValue}/`);

  for (const [name, path] of SECRETS) {
    const secret = readSecret(env, name);
    setPath(out, path, secret === null ? null : secret[0]);
    sources.set(path, secret === null ? 'default' : secret[1]);
  }

  const fileGates = isObj(raw.gates) ? raw.gates : {};
  const overrideGates = isObj(opts.overrides?.gates) ? opts.overrides.gates : {};
  const rawDefaults = own(overrideGates, 'defaults') ?? own(fileGates, 'defaults');
  const rawList = own(overrideGates, 'list') ?? own(fileGates, 'list');
  const defaults = policyFrom(rawDefaults, POLICY_DEFAULTS, 'gates.defaults', fileLabel);
  sources.set('gates.defaults', rawDefaults === undefined ? 'default' : (`file ${file ?? 'overrides'}` as ValueSource));
  // Device profile names are part of a gate's validity: check them here, as `serve` uses them.
  const profiles: Profiles | null = hasDevices(rawList) ? loadProfiles(profilesDir(out as unknown as Config)) : null;
  const list = gatesFrom(rawList, defaults, fileLabel, profiles);
  sources.set('gates.list', rawList === undefined ? 'default' : (`file ${file ?? 'overrides'}` as ValueSource));
  setPath(out, 'gates.defaults', defaults);
  setPath(out, 'gates.list', list);

  const config = out as unknown as Config;
  if (config.limits.headersTimeoutMs > config.limits.requestTimeoutMs) {
    throw configInvalid('limits.headersTimeoutMs', `at most limits.requestTimeoutMs (${config.limits.requestTimeoutMs})`, config.limits.headersTimeoutMs, sources.get('limits.headersTimeoutMs') ?? 'default');
  }
  crossCheckCache(config, sources);
  if (config.ministry.baseUrl !== null && config.environment === 'simulator') {
    // A real address with the simulator label would mislead operators reading logs and /readyz.
    config.environment = /\/test\//.test(config.ministry.baseUrl) ? 'test' : 'live';
    sources.set('environment', 'default');
  }
  return { config: deepFreeze(config), sources, file };
}
