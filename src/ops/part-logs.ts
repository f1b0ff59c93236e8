/**
 * The log lines of the service's parts: the parts report what happened (events, callbacks), and
 * this observer turns it into the log's vocabulary (log-events.ts, docs/operations.md "Logs").
 * The composition root attaches it, itself or through the assemblers' observers; no part logs
 * these itself.
 *
 *   ministry target, credentials probe ─> which ministry answers, `config.problem` without credentials
 *   ministry address ─> `config.problem` while its host does not resolve
 *   card store ─> a failed status write; its binding index read; the statuses restored at opening
 *   ministry calls ─> MinistryHealth ─> `ministry.state` on a change; a credentials refusal once
 *   circuit breaker `state`, `paused` ─> `circuit.state`, the 429 pause
 *   refresher `backoff`, `rotation` ─> `refresher.backoff`, `refresher.rotation`
 *   station `device` ─> `device.state`
 */
import type { Logger } from 'pino';
import type { DeviceEvent } from '../devices/events.js';
import type { CircuitStateEvent, MinistryCallEvent } from '../ministry/types.js';
import type { BackoffEvent, RotationEvent } from '../status/refresher-types.js';
import type { Clock } from '../types.js';
import type { MinistryHealth } from './ministry-health.js';

/** The parts' events, as narrow shapes (the real parts are EventEmitters). */
export interface CircuitSource {
  on(event: 'state', listener: (e: CircuitStateEvent) => void): unknown;
  on(event: 'paused', listener: (e: { until: number }) => void): unknown;
}
export interface RefresherSource {
  on(event: 'backoff', listener: (e: BackoffEvent) => void): unknown;
  on(event: 'rotation', listener: (e: RotationEvent) => void): unknown;
}
export interface DeviceSource {
  on(event: 'device', listener: (e: DeviceEvent) => void): unknown;
}

/** The ministry chosen at start (ministry/target.ts), as the log names it: never a password or a user name. */
export interface TargetReadout {
  readonly environment: string;
  readonly baseUrl: string;
  readonly user: string | null;
  readonly credentialsSet: boolean;
  readonly simulator: unknown;
}

export function logMinistryTarget(logger: Logger, target: TargetReadout): void {
  const { baseUrl, environment } = target;
  if (target.simulator !== null) {
    logger.info({ baseUrl, environment }, 'ministry: embedded simulator (sample codes, no real data)');
  } else {
    logger.info({ baseUrl, environment, user: target.user === null ? null : 'set', password: target.credentialsSet ? 'set' : 'unset' }, 'ministry: remote service');
  }
  if (!target.credentialsSet) {
    logger.warn({ event: 'config.problem', key: 'ministry.user' }, 'ministry credentials are not set (HES_GATE_MINISTRY_USER, HES_GATE_MINISTRY_PASSWORD or _FILE): every call will be refused');
  }
}

/**
 * The ministry host's resolution (ministry/address-check.ts): a host that does not resolve does
 * not stop the station (DNS may be down at boot), so it is said once, and again when it resolves.
 */
export function addressLogs(logger: Logger): { onUnresolved: (host: string, code: string) => void; onResolved: (host: string) => void } {
  return {
    onUnresolved: (host, code) => logger.warn({ event: 'config.problem', key: 'ministry.baseUrl', error: code }, `the ministry host ${host} does not resolve (${code}): the outage policy decides until it does`),
    onResolved: (host) => logger.info({ host }, 'ministry host resolves now'),
  };
}

/**
 * The card side's reports (cards/assemble.ts): a failed status write (nothing else says it), its
 * binding index read for taps, the store open with the statuses it restored, and the refresher.
 */
export function cardStoreLogs(logger: Logger): {
  onWriteError: (err: unknown) => void;
  onIndexed: (e: { bindings: number; ms: number; bytes: number }) => void;
  opened: (e: { bindings: number; restoredStatuses: number }) => void;
  refresher: (refresher: RefresherSource) => void;
} {
  return {
    onWriteError: (err) => logger.error({ err }, 'card store: statuses were not persisted'),
    onIndexed: (e) => logger.info({ bindings: e.bindings, ms: e.ms, bytes: e.bytes }, 'card store: bindings indexed in memory for taps'),
    opened: (e) => logger.info({ bindings: e.bindings, restoredStatuses: e.restoredStatuses }, 'card store open'),
    refresher: (refresher) => logRefresher(logger, refresher),
  };
}

/** The start-up credentials probe's outcome, logged when accepted (a refusal is logged by the call observer). */
export function logProbe<T>(logger: Logger, environment: string, probe: Promise<T>): Promise<T> {
  return probe.then((outcome) => {
    if (outcome === 'accepted') logger.info({ environment }, 'ministry: credentials accepted');
    return outcome;
  });
}

/** Something else that sees every ministry call (metrics, the live feed). */
export interface MinistryCallSink {
  ministryCall(e: MinistryCallEvent): void;
}

/**
 * The ministry client's `onCall`: records the call in `health`, logs a change of state and a
 * credentials refusal (once per refusal, not per call: after the probe or the first refused tap,
 * readiness says it), then hands the call to the sinks (read at each call: they are created later).
 */
export function ministryCallObserver(o: { logger: Logger; clock: Clock; health: MinistryHealth; environment: string; sinks: () => Iterable<MinistryCallSink | undefined> }): (e: MinistryCallEvent) => void {
  const { logger, clock, health, environment } = o;
  return (e) => {
    const before = health.state;
    health.record(e, clock());
    const after = health.state;
    if (after !== before) {
      const log = after === 'up' ? logger.info.bind(logger) : logger.warn.bind(logger);
      log({ event: 'ministry.state', from: before, to: after, error: after === 'up' ? null : health.lastError }, `ministry ${after}`);
    }
    for (const sink of o.sinks()) sink?.ministryCall(e);
    if (e.outcome === 'HG_MINISTRY_AUTH' && before !== 'credentials-refused') {
      logger.error({ endpoint: e.endpoint, environment }, 'the ministry refused the credentials: check HES_GATE_MINISTRY_USER and the password for this environment');
    }
  };
}

export function logCircuit(logger: Logger, clock: Clock, guard: CircuitSource): void {
  guard.on('state', (e) => {
    const log = e.to === 'open' ? logger.warn.bind(logger) : logger.info.bind(logger);
    log({ event: 'circuit.state', from: e.from, to: e.to, reason: e.reason, retryInMs: Math.max(0, e.openUntil - clock()) }, `ministry circuit ${e.to}`);
  });
  guard.on('paused', (e) => logger.warn({ pauseMs: e.until - clock() }, 'the ministry asked to slow down (429): pausing calls'));
}

/**
 * The ministry side's observer (ministry/assemble.ts): the target chosen, its host's resolution,
 * every call (health, state changes, a credentials refusal) and the guard's circuit, as log lines.
 */
export function ministryLogs(o: { logger: Logger; clock: Clock; health: MinistryHealth; sinks: () => Iterable<MinistryCallSink | undefined> }): {
  target: (target: TargetReadout) => void;
  address: ReturnType<typeof addressLogs>;
  calls: (environment: string) => (e: MinistryCallEvent) => void;
  circuit: (guard: CircuitSource) => void;
} {
  const { logger, clock } = o;
  return {
    target: (target) => logMinistryTarget(logger, target),
    address: addressLogs(logger),
    calls: (environment) => ministryCallObserver({ ...o, environment }),
    circuit: (guard) => logCircuit(logger, clock, guard),
  };
}

export function logRefresher(logger: Logger, refresher: RefresherSource): void {
  refresher.on('backoff', (e) => logger.warn({ event: 'refresher.backoff', delayMs: Math.round(e.delayMs), error: e.errorCode, consecutiveFailures: e.consecutiveFailures }, 'refresher backing off'));
  refresher.on('rotation', (e) => logger.info({ event: 'refresher.rotation', codes: e.codes, calls: e.calls, failedCalls: e.failedCalls, durationMs: Math.round(e.durationMs) }, 'refresher rotation complete'));
}

export function logDevices(logger: Logger, station: DeviceSource): void {
  station.on('device', (e) => {
    // A close the station made itself (stopping) is expected: not a warning.
    const log = e.state === 'open' || e.expected === true ? logger.info.bind(logger) : logger.warn.bind(logger);
    log({ event: 'device.state', device: e.id, role: e.role, path: e.path, state: e.state, error: e.error ?? null }, `device ${e.id} ${e.state}`);
  });
}
