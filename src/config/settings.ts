/**
 * Every setting's default and check, in one table: the single source of truth for defaults.
 * `schema.ts` documents the types; code that takes options elsewhere (the refresher, the
 * ministry guard, …) is given these values by the composition root, so a default written in
 * code is only a fallback for tests and must equal the one here (test/config/defaults.test.ts
 * checks the refresher's and the ministry guard's).
 */
import { isProfileName } from '../policy/card-profile.js';
import type { GatePolicy } from '../policy/types.js';
import { hostname } from 'node:os';
import { must, type Check } from './checks.js';

/** A station id goes into logs, journal exports and Prometheus target labels: keep it plain. */
const stationId: Check = (v) =>
  typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v) ? null : 'a station id: letters, digits, dot, dash or underscore, at most 63 characters';

const nullableStationId: Check = (v) => (v === null ? null : stationId(v) === null ? null : `null or ${stationId(v)}`);

/** The hub's list-signing public key: the raw 32 bytes of an Ed25519 key in base64 (44 characters). */
const ed25519PublicKey: Check = (v) =>
  v === null || (typeof v === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(v) && Buffer.from(v, 'base64').length === 32)
    ? null
    : 'null or an Ed25519 public key: 32 bytes in base64 (44 characters, as `hes-gate vehicle keygen` prints it)';

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

/** A topic to publish on or subscribe to: a plain name, no wildcard, not a broker's `$` topic. */
const mqttTopic: Check = (v) =>
  typeof v === 'string' && v !== '' && Buffer.byteLength(v) <= 256 && !/[#+\u0000]/.test(v) && !v.startsWith('$') ? null : 'an MQTT topic name: 1–256 bytes, no `+` or `#` wildcard, not starting with `$`';

/**
 * A URL of one of `schemes` (e.g. `redis:`, `rediss:`) with no credentials in it (they
 * come from the user key and a password variable), or null.
 */
const credentialFreeUrl =
  (schemes: readonly string[], expected: string): Check =>
  (v) => {
    if (v === null) return null;
    if (typeof v !== 'string') return expected;
    try {
      const u = new URL(v);
      if (u.password !== '' || u.username !== '') return expected;
      return schemes.includes(u.protocol) ? null : expected;
    } catch {
      return expected;
    }
  };

/** The city's Redis: redis:// or rediss:// (TLS), with no password in it (HES_GATE_CITY_REDIS_PASSWORD). */
const redisUrl = credentialFreeUrl(['redis:', 'rediss:'], 'a redis:// or rediss:// URL without a password in it (use HES_GATE_CITY_REDIS_PASSWORD), or null');

/** An MQTT broker: mqtt:// or mqtts:// (TLS), with no credentials in it (the user and password keys). */
const mqttUrl = credentialFreeUrl(['mqtt:', 'mqtts:'], 'an mqtt:// or mqtts:// URL without credentials in it (use the mqtt user key and its password variable), or null');

/** Sentinel addresses: ["host:port", …]. */
const hostPorts: Check = (v) =>
  Array.isArray(v) && v.every((a) => typeof a === 'string' && /^[A-Za-z0-9._-]+:\d{1,5}$/.test(a) && Number(a.split(':')[1]) > 0 && Number(a.split(':')[1]) < 65536)
    ? null
    : 'a list of "host:port" strings';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const profileHours: Check = (v) => {
  const expected = 'an object of card profile (a lower-case word such as "senior") → [{"from":"HH:MM","to":"HH:MM"}, …]';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return expected;
  // Keys are looked up by a binding's profile: only names a card can carry (so never `__proto__`
  // or `toString`; `constructor` is a plain profile name, looked up with Object.hasOwn).
  if (!Object.keys(v).every(isProfileName)) return expected;
  for (const windows of Object.values(v)) {
    if (!Array.isArray(windows)) return expected;
    for (const w of windows) {
      if (typeof w !== 'object' || w === null || Array.isArray(w)) return expected;
      if (Object.keys(w).some((k) => k !== 'from' && k !== 'to')) return expected;
      if (!HHMM.test(String(Object.hasOwn(w, 'from') ? w.from : '')) || !HHMM.test(String(Object.hasOwn(w, 'to') ? w.to : ''))) return expected;
    }
  }
  return null;
};

/** The policy of a gate that sets nothing (`gates.defaults` layers over it). */
export const POLICY_DEFAULTS: Readonly<GatePolicy> = Object.freeze({
  deadlineMs: 150,
  ministryUnavailable: 'last-known',
  lastKnownMaxAgeMs: 6 * 3_600_000,
  lastKnownFallback: 'deny',
  repeatTapWindowMs: 0,
  profileHours: {},
  requirement: 'none',
  negativeTestValidityMs: 72 * 3_600_000,
  utcOffsetMinutes: 180,
});

export const POLICY_CHECKS: ReadonlyMap<keyof GatePolicy, Check> = new Map<keyof GatePolicy, Check>([
  ['deadlineMs', must.int(10, 10_000)],
  ['ministryUnavailable', must.oneOf('deny', 'pass', 'last-known')],
  ['lastKnownMaxAgeMs', must.int(0, 30 * 86_400_000)],
  ['lastKnownFallback', must.oneOf('deny', 'pass')],
  ['repeatTapWindowMs', must.int(0, 86_400_000)],
  ['profileHours', profileHours],
  ['requirement', must.oneOf('none', 'vaccinated', 'vaccinated-or-immune', 'vaccinated-immune-or-tested')],
  ['negativeTestValidityMs', must.int(0, 30 * 86_400_000)],
  ['utcOffsetMinutes', must.int(-720, 840)],
]);

/** Every leaf setting except gates: default and check. Secrets are not here: env only. */
export const LEAVES: ReadonlyMap<string, readonly [unknown, Check]> = new Map<string, readonly [unknown, Check]>([
  ['environment', ['simulator', must.oneOf('simulator', 'test', 'live')]],
  ['server.host', ['127.0.0.1', must.str]],
  ['server.port', [8080, must.int(0, 65535)]],
  ['server.bodyLimitBytes', [8192, must.int(256, 16 * 1024 * 1024)]],
  ['server.allowUnauthenticated', [false, must.bool]],
  ['ministry.baseUrl', [null, baseUrl]],
  ['limits.requestTimeoutMs', [10_000, must.int(100, 3_600_000)]],
  ['limits.headersTimeoutMs', [5_000, must.int(100, 3_600_000)]],
  ['limits.idleTimeoutMs', [60_000, must.int(100, 3_600_000)]],
  ['limits.maxConnections', [1024, must.int(1, 1_000_000)]],
  ['limits.maxConnectionsPerAddress', [64, must.int(1, 1_000_000)]],
  ['limits.maxHeaderBytes', [8192, must.int(1024, 1024 * 1024)]],
  ['limits.maxEventLoopDelayMs', [10, must.int(1, 10_000)]],
  ['limits.maxEventLoopUtilization', [0.6, must.num(0.05, 1)]],
  ['limits.maxDecisionsInFlight', [256, must.int(1, 1_000_000)]],
  ['ministry.user', [null, must.nullableStr]],
  ['ministry.connections', [8, must.int(1, 256)]],
  ['ministry.connectTimeoutMs', [1000, must.int(10, 60_000)]],
  ['ministry.headersTimeoutMs', [2000, must.int(10, 120_000)]],
  ['ministry.bodyTimeoutMs', [2000, must.int(10, 120_000)]],
  ['ministry.caFile', [null, must.nullableStr]],
  ['resilience.consecutiveFailures', [5, must.int(1, 1000)]],
  ['resilience.failureRate', [0.5, must.num(0.01, 1)]],
  ['resilience.minimumCalls', [20, must.int(1, 100_000)]],
  ['resilience.baseEjectionMs', [1000, must.int(10, 600_000)]],
  ['resilience.maxEjectionMs', [30_000, must.int(10, 3_600_000)]],
  ['resilience.maxRetries', [1, must.int(0, 5)]],
  ['resilience.maxInFlight', [64, must.int(1, 10_000)]],
  ['simulator.host', ['127.0.0.1', must.str]],
  ['simulator.port', [0, must.int(0, 65535)]],
  ['simulator.codesFile', [null, must.nullableStr]],
  ['cache.risklessTtlMs', [600_000, must.int(0, 86_400_000)]],
  ['cache.riskyTtlMs', [21_600_000, must.int(0, 30 * 86_400_000)]],
  ['cache.notFoundTtlMs', [60_000, must.int(0, 86_400_000)]],
  ['cache.expiredTtlMs', [3_600_000, must.int(0, 30 * 86_400_000)]],
  ['cache.lastKnownMaxAgeMs', [86_400_000, must.int(0, 30 * 86_400_000)]],
  ['cache.maxEntries', [1_000_000, must.int(100, 20_000_000)]],
  ['gates.requireKnown', [false, must.bool]],
  ['refresher.enabled', [true, must.bool]],
  ['refresher.callsPerSecond', [1, must.num(0.001, 100)]],
  ['refresher.backoffInitialMs', [2000, must.int(10, 3_600_000)]],
  ['refresher.backoffMaxMs', [300_000, must.int(10, 86_400_000)]],
  ['dataDir', ['./data', must.str]],
  ['stationId', [hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63) || 'station', stationId]],
  ['journal.enabled', [true, must.bool]],
  ['journal.retentionDays', [30, must.int(1, 3650)]],
  ['journal.maxBytes', [536_870_912, must.int(1_048_576, 1_099_511_627_776)]],
  ['journal.flushIntervalMs', [250, must.int(10, 60_000)]],
  ['devicesDir', [null, must.nullableStr]],
  ['log.level', ['info', must.oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')]],
  ['log.requests', [false, must.bool]],
  ['city.role', ['standalone', must.oneOf('standalone', 'station', 'hub', 'vehicle')]],
  ['city.redisUrl', [null, redisUrl]],
  ['city.redisUser', [null, must.nullableStr]],
  ['city.sentinels', [[], hostPorts]],
  ['city.sentinelName', ['hes-gate', must.str]],
  ['city.keyFile', [null, must.nullableStr]],
  ['city.nodeKeyFile', [null, must.nullableStr]],
  ['city.tlsCaFile', [null, must.nullableStr]],
  ['city.connectTimeoutMs', [2000, must.int(100, 60_000)]],
  ['city.leaseMs', [10_000, must.int(1000, 600_000)]],
  ['city.heartbeatMs', [5000, must.int(500, 600_000)]],
  ['city.changesMaxLen', [1_000_000, must.int(1000, 100_000_000)]],
  ['city.lookupsMaxLen', [100_000, must.int(100, 100_000_000)]],
  ['city.maxCallsPerSecond', [10, must.num(0.001, 1000)]],
  ['city.ackReplicas', [0, must.int(0, 16)]],
  ['city.ackTimeoutMs', [5000, must.int(100, 600_000)]],
  ['city.reconcileMs', [300_000, must.int(1000, 86_400_000)]],
  ['vehicles.enabled', [false, must.bool]],
  ['vehicles.listKeyFile', [null, must.nullableStr]],
  ['vehicles.signingKeyFile', [null, must.nullableStr]],
  ['vehicles.publishDir', [null, must.nullableStr]],
  ['vehicles.publishEveryMs', [300_000, must.int(1000, 86_400_000)]],
  ['vehicles.snapshotEveryMs', [21_600_000, must.int(1000, 30 * 86_400_000)]],
  ['vehicles.keepSnapshots', [5, must.int(1, 100)]],
  ['vehicles.horizonMs', [172_800_000, must.int(60_000, 30 * 86_400_000)]],
  ['vehicles.maxListAgeMs', [21_600_000, must.int(60_000, 30 * 86_400_000)]],
  ['vehicles.mqtt.url', [null, mqttUrl]],
  ['vehicles.mqtt.topic', ['hes-gate/vehicle-list', mqttTopic]],
  ['vehicles.mqtt.user', [null, must.nullableStr]],
  ['vehicle.id', [null, nullableStationId]],
  ['vehicle.headUrl', [null, baseUrl]],
  ['vehicle.filesUrl', [null, baseUrl]],
  ['vehicle.tokenFile', [null, must.nullableStr]],
  ['vehicle.listKeyFile', [null, must.nullableStr]],
  ['vehicle.publicKey', [null, ed25519PublicKey]],
  ['vehicle.maxListAgeMs', [21_600_000, must.int(60_000, 30 * 86_400_000)]],
  ['vehicle.pollMs', [300_000, must.int(1000, 86_400_000)]],
  ['vehicle.uploadUrl', [null, baseUrl]],
  ['vehicle.uploadEveryMs', [300_000, must.int(1000, 86_400_000)]],
  ['vehicle.mqtt.url', [null, mqttUrl]],
  ['vehicle.mqtt.topic', ['hes-gate/vehicle-list', mqttTopic]],
  ['vehicle.mqtt.user', [null, must.nullableStr]],
  ['vehicle.mqtt.minPollGapMs', [10_000, must.int(1000, 3_600_000)]],
]);

/** The default of a leaf setting, for code that needs the same value (`defaultOf('refresher.backoffMaxMs')`). */
export function defaultOf(key: string): unknown {
  const leaf = LEAVES.get(key);
  if (leaf === undefined) throw new TypeError(`no setting ${key}`);
  return leaf[0];
}

const flag = (s: string): unknown => (s === '1' || s === 'true' ? true : s === '0' || s === 'false' ? false : s);

/** Environment variables that override a leaf (the operator's scripting contract). */
export const ENV_LEAVES: ReadonlyMap<string, readonly [string, (raw: string) => unknown]> = new Map<string, readonly [string, (raw: string) => unknown]>([
  ['HES_GATE_HOST', ['server.host', (s) => s]],
  ['HES_GATE_PORT', ['server.port', (s) => (/^\d+$/.test(s) ? Number(s) : s)]],
  ['HES_GATE_ALLOW_UNAUTHENTICATED', ['server.allowUnauthenticated', flag]],
  ['HES_GATE_MINISTRY_URL', ['ministry.baseUrl', (s) => s]],
  ['HES_GATE_MINISTRY_USER', ['ministry.user', (s) => s]],
  ['HES_GATE_LOG_LEVEL', ['log.level', (s) => s]],
  ['HES_GATE_DATA_DIR', ['dataDir', (s) => s]],
  ['HES_GATE_STATION_ID', ['stationId', (s) => s]],
  ['HES_GATE_ENVIRONMENT', ['environment', (s) => s]],
  ['HES_GATE_CITY_ROLE', ['city.role', (s) => s]],
  ['HES_GATE_CITY_REDIS_URL', ['city.redisUrl', (s) => s]],
  ['HES_GATE_CITY_REDIS_USER', ['city.redisUser', (s) => s]],
  ['HES_GATE_CITY_SENTINELS', ['city.sentinels', (s) => s.split(',').map((a) => a.trim()).filter((a) => a !== '')]],
  ['HES_GATE_CITY_KEY_FILE', ['city.keyFile', (s) => s]],
  ['HES_GATE_CITY_NODE_KEY_FILE', ['city.nodeKeyFile', (s) => s]],
  ['HES_GATE_VEHICLES_ENABLED', ['vehicles.enabled', flag]],
  ['HES_GATE_VEHICLES_LIST_KEY_FILE', ['vehicles.listKeyFile', (s) => s]],
  ['HES_GATE_VEHICLES_SIGNING_KEY_FILE', ['vehicles.signingKeyFile', (s) => s]],
  ['HES_GATE_VEHICLES_MQTT_URL', ['vehicles.mqtt.url', (s) => s]],
  ['HES_GATE_VEHICLES_MQTT_USER', ['vehicles.mqtt.user', (s) => s]],
  ['HES_GATE_VEHICLE_TOKEN_FILE', ['vehicle.tokenFile', (s) => s]],
  ['HES_GATE_VEHICLE_MQTT_URL', ['vehicle.mqtt.url', (s) => s]],
  ['HES_GATE_VEHICLE_MQTT_USER', ['vehicle.mqtt.user', (s) => s]],
]);

/** Secrets: the variable itself, or `<NAME>_FILE` naming a file that holds it. */
export const SECRETS: ReadonlyMap<string, string> = new Map([
  ['HES_GATE_MINISTRY_PASSWORD', 'ministry.password'],
  ['HES_GATE_API_TOKEN', 'server.apiToken'],
  ['HES_GATE_ADMIN_TOKEN', 'server.adminToken'],
  ['HES_GATE_SIMULATOR_TOKEN', 'simulator.controlToken'],
  ['HES_GATE_CITY_REDIS_PASSWORD', 'city.redisPassword'],
  ['HES_GATE_VEHICLES_MQTT_PASSWORD', 'vehicles.mqtt.password'],
  ['HES_GATE_VEHICLE_MQTT_PASSWORD', 'vehicle.mqtt.password'],
]);
