/**
 * Resilience around the ministry client, as interceptors composed onto it (call-interceptor.ts):
 *
 *   single-code calls:  retries ─> 429 pause ─> in-flight cap ─> circuit breaker ─> client
 *   bulk calls:                    429 pause ─> in-flight cap ─> circuit breaker ─> client
 *
 * (circuit-breaker.ts, rate-limit-pause.ts, in-flight-cap.ts, call-retries.ts). Bulk calls are
 * not retried here: the refresher paces and backs off on its own. Learned from Envoy (retries
 * inside the overall timeout; retry budget ≈ 20 % of active requests; outlier ejection whose
 * duration grows with each ejection).
 *
 * Events: `state` (a CircuitStateEvent) when the circuit changes, `paused` ({until}) on a 429.
 */
import { EventEmitter } from 'node:events';
import { defaultOf } from '../config/settings.js';
import type { Config } from '../config/schema.js';
import type { ErrorCode } from '../errors.js';
import type { Clock, MinistryLookup } from '../types.js';
import { compose, type Call } from './call-interceptor.js';
import { CallRetries } from './call-retries.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { InFlightCap } from './in-flight-cap.js';
import { RateLimitPause } from './rate-limit-pause.js';
import type { BulkResult, MinistryClient, VisitorDetails } from './types.js';

export type { CircuitState, CircuitStateEvent } from './circuit-breaker.js';

export interface GuardOptions {
  clock: Clock;
  /** Consecutive failures that open the circuit. @default resilience.consecutiveFailures (5) */
  consecutiveFailures?: number;
  /** Failure rate (0–1) over the window that opens the circuit. @default resilience.failureRate (0.5) */
  failureRate?: number;
  /** Calls in the window before the rate counts. @default resilience.minimumCalls (20) */
  minimumCalls?: number;
  /** Length of the failure-rate window, in ms. @default 10000 */
  windowMs?: number;
  /** First ejection time, in ms; doubles with each consecutive ejection. @default resilience.baseEjectionMs (1000) */
  baseEjectionMs?: number;
  /** Longest ejection time, in ms. @default resilience.maxEjectionMs (30000) */
  maxEjectionMs?: number;
  /** Retries of one single-code call at most. @default resilience.maxRetries (1) */
  maxRetries?: number;
  /** A call is retried only if this much of its time budget is left, in ms. @default 250 */
  retryMinRemainingMs?: number;
  /** The whole time one single-code call may take, retries included, in ms. @default 2000 */
  callBudgetMs?: number;
  /** Retries in flight may be at most this share of calls in flight. @default 0.2 */
  retryBudgetRatio?: number;
  /** Retries always allowed in flight regardless of the ratio. @default 3 */
  retryBudgetMin?: number;
  /** Calls in flight beyond which new calls fail fast (in-flight-cap.ts). @default resilience.maxInFlight (64) */
  maxInFlight?: number;
}

type Resolved = Required<Omit<GuardOptions, 'clock'>>;
const configured = (key: keyof Config['resilience']): number => defaultOf(`resilience.${key}`) as number;

/** The guard's defaults: the configuration's `resilience` defaults (one value per setting), and the rest. */
export const GUARD_DEFAULTS: Readonly<Resolved> = Object.freeze({
  consecutiveFailures: configured('consecutiveFailures'),
  failureRate: configured('failureRate'),
  minimumCalls: configured('minimumCalls'),
  windowMs: 10_000,
  baseEjectionMs: configured('baseEjectionMs'),
  maxEjectionMs: configured('maxEjectionMs'),
  maxRetries: configured('maxRetries'),
  retryMinRemainingMs: 250,
  callBudgetMs: 2000,
  retryBudgetRatio: 0.2,
  retryBudgetMin: 3,
  maxInFlight: configured('maxInFlight'),
});

/**
 * The guard as the configuration sets it. One single-code call's budget, retries included, is
 * what the client's own timeouts allow before an answer starts (connect + headers).
 */
export function guardOptions(config: Pick<Config, 'resilience' | 'ministry'>, clock: Clock): GuardOptions {
  return { clock, ...config.resilience, callBudgetMs: config.ministry.connectTimeoutMs + config.ministry.headersTimeoutMs };
}

export interface GuardStats {
  state: CircuitState;
  ejections: number;
  openUntil: number;
  pausedUntil: number;
  rejected: number;
  /** Calls refused because `maxInFlight` calls were already under way. */
  shed: number;
  retries: number;
  retriesDenied: number;
  lastError: ErrorCode | null;
}

export class GuardedMinistry extends EventEmitter implements MinistryClient {
  private readonly inner: MinistryClient;
  private readonly clock: Clock;
  /** The effective options (the defaults test reads them). */
  private readonly o: Resolved;
  readonly #breaker: CircuitBreaker;
  readonly #pause: RateLimitPause;
  readonly #cap: InFlightCap;
  readonly #retries: CallRetries;
  readonly #bulk: Call;
  readonly #single: Call;

  constructor(inner: MinistryClient, options: GuardOptions) {
    super();
    this.inner = inner;
    this.clock = options.clock;
    const o = { ...GUARD_DEFAULTS } as Resolved;
    for (const key of Object.keys(GUARD_DEFAULTS) as Array<keyof Resolved>) o[key] = options[key] ?? GUARD_DEFAULTS[key];
    this.o = o;
    this.#breaker = new CircuitBreaker(o, this.clock, (e) => this.emit('state', e));
    this.#pause = new RateLimitPause(this.clock, (until) => this.emit('paused', { until }));
    this.#cap = new InFlightCap(o.maxInFlight);
    this.#retries = new CallRetries(o, this.clock, () => this.#cap.active, () => this.#breaker.state === 'closed');
    const call: Call = (fn) => fn();
    this.#bulk = compose([this.#pause.interceptor, this.#cap.interceptor, this.#breaker.interceptor], call);
    this.#single = this.#retries.interceptor(this.#bulk);
  }

  snapshot(): GuardStats {
    const b = this.#breaker;
    b.refresh();
    return {
      state: b.state,
      ejections: b.ejections,
      openUntil: b.openUntil,
      pausedUntil: this.#pause.pausedUntil,
      rejected: this.#pause.rejected + b.rejected,
      shed: this.#cap.shed,
      retries: this.#retries.retries,
      retriesDenied: this.#retries.retriesDenied,
      lastError: b.lastError,
    };
  }

  checkHesCode(code: string): Promise<MinistryLookup> {
    return this.#single(() => this.inner.checkHesCode(code));
  }
  checkHesCodePlus(code: string): Promise<MinistryLookup> {
    return this.#single(() => this.inner.checkHesCodePlus(code));
  }
  checkEmployeeHesCode(code: string): Promise<MinistryLookup> {
    return this.#single(() => this.inner.checkEmployeeHesCode(code));
  }
  checkVisitorHesCode(code: string, visitor: VisitorDetails): Promise<MinistryLookup> {
    return this.#single(() => this.inner.checkVisitorHesCode(code, visitor));
  }
  /** Bulk calls are not retried here: the refresher paces and backs off on its own. */
  checkHesCodes(codes: readonly string[]): Promise<BulkResult> {
    return this.#bulk(() => this.inner.checkHesCodes(codes));
  }
  checkHesCodesPlus(codes: readonly string[]): Promise<BulkResult> {
    return this.#bulk(() => this.inner.checkHesCodesPlus(codes));
  }
  close(): Promise<void> {
    this.#breaker.stop();
    return this.inner.close();
  }
}
