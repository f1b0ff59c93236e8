/**
 * The circuit breaker around ministry calls, with growing ejection times (Envoy's outlier
 * ejection: its duration doubles with each consecutive ejection).
 *
 *   closed ──(N consecutive failures, or failure rate ≥ R over ≥ M calls)──> open
 *   open ──(ejection time passed)──> half-open: one probe call at a time
 *   half-open ──probe ok──> closed        half-open ──probe fails──> open (longer)
 *
 * A failure here is about availability: timeouts, resets, 5xx, bodies that are not JSON, 401/403.
 * Definitive answers (a status, not found, expired) and data oddities (an unknown status or
 * errorKey from a ministry that answered) count as success. Wrong credentials open the circuit
 * too (repeating them helps no one), and stay reported as such. A 429 counts as neither: the
 * pause outside handles it.
 */
import { HesGateError, type ErrorCode } from '../errors.js';
import type { Clock } from '../types.js';
import { codeOf, type Interceptor } from './call-interceptor.js';
import type { CircuitState, CircuitStateEvent } from './types.js';

export type { CircuitState, CircuitStateEvent };


export interface BreakerOptions {
  consecutiveFailures: number;
  failureRate: number;
  minimumCalls: number;
  windowMs: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
}

const AVAILABILITY_FAILURES = new Set<ErrorCode>([
  'HG_MINISTRY_TIMEOUT',
  'HG_MINISTRY_CONNECTION',
  'HG_MINISTRY_SERVER_ERROR',
  'HG_MINISTRY_BAD_RESPONSE',
  'HG_MINISTRY_AUTH',
  'HG_MINISTRY_HTTP_STATUS',
  'HG_INTERNAL',
]);

export class CircuitBreaker {
  state: CircuitState = 'closed';
  ejections = 0;
  openUntil = 0;
  rejected = 0;
  lastError: ErrorCode | null = null;
  readonly #o: BreakerOptions;
  readonly #clock: Clock;
  readonly #onState: (e: CircuitStateEvent) => void;
  #consecutive = 0;
  #probeInFlight = false;
  #windowStart = 0;
  #windowCalls = 0;
  #windowFailures = 0;
  #halfOpenTimer: NodeJS.Timeout | undefined;

  constructor(options: BreakerOptions, clock: Clock, onState: (e: CircuitStateEvent) => void) {
    this.#o = options;
    this.#clock = clock;
    this.#onState = onState;
  }

  readonly interceptor: Interceptor = (next) => async (fn) => {
    const probe = this.#admit();
    try {
      const result = await next(fn);
      this.#onSuccess(probe);
      return result;
    } catch (err) {
      this.#onFailure(err, probe);
      throw err;
    }
  };

  /** Moves an open circuit whose ejection time passed to half-open (read before reporting the state). */
  refresh(now = this.#clock()): void {
    if (this.state === 'open' && now >= this.openUntil) this.#transition('half-open', 'ejection time passed');
  }

  stop(): void {
    clearTimeout(this.#halfOpenTimer);
  }

  #transition(to: CircuitState, reason: string): void {
    if (this.state === to) return;
    const from = this.state;
    this.state = to;
    this.#onState({ from, to, reason, openUntil: this.openUntil, ejections: this.ejections });
  }

  /** Throws when the circuit lets no call out now; returns whether this call is the half-open probe. */
  #admit(): boolean {
    const now = this.#clock();
    this.refresh(now);
    if (this.state === 'closed') return false;
    if (this.state === 'half-open' && !this.#probeInFlight) {
      this.#probeInFlight = true;
      return true;
    }
    this.rejected++;
    throw new HesGateError('HG_MINISTRY_CIRCUIT_OPEN', 'calls to the ministry are paused after repeated failures', {
      details: { retryInMs: Math.max(0, this.openUntil - now), lastError: this.lastError },
    });
  }

  #onSuccess(probe: boolean): void {
    this.#consecutive = 0;
    this.#countInWindow(false);
    if (probe) {
      this.#probeInFlight = false;
      this.#transition('closed', 'probe succeeded');
      this.ejections = 0;
    }
  }

  #onFailure(err: unknown, probe: boolean): void {
    const code = codeOf(err);
    if (code === 'HG_MINISTRY_RATE_LIMITED') {
      if (probe) this.#probeInFlight = false;
      return;
    }
    if (!AVAILABILITY_FAILURES.has(code)) {
      this.#onSuccess(probe); // the ministry answered; the data was odd
      return;
    }
    this.lastError = code;
    this.#consecutive++;
    const rateTripped = this.#countInWindow(true);
    if (probe) {
      this.#probeInFlight = false;
      this.#eject(`probe failed: ${code}`);
    } else if (this.state === 'closed' && (this.#consecutive >= this.#o.consecutiveFailures || rateTripped)) {
      this.#eject(rateTripped ? `failure rate over ${this.#o.failureRate * 100}%: ${code}` : `${this.#consecutive} consecutive failures: ${code}`);
    }
  }

  /** Count a call in the current window; true when the failure rate now trips the circuit. */
  #countInWindow(failed: boolean): boolean {
    const now = this.#clock();
    if (now - this.#windowStart >= this.#o.windowMs) {
      this.#windowStart = now;
      this.#windowCalls = 0;
      this.#windowFailures = 0;
    }
    this.#windowCalls++;
    if (failed) this.#windowFailures++;
    return this.#windowCalls >= this.#o.minimumCalls && this.#windowFailures / this.#windowCalls >= this.#o.failureRate;
  }

  #eject(reason: string): void {
    this.ejections++;
    const ms = Math.min(this.#o.baseEjectionMs * 2 ** (this.ejections - 1), this.#o.maxEjectionMs);
    this.openUntil = this.#clock() + ms;
    this.#windowCalls = 0;
    this.#windowFailures = 0;
    const from = this.state;
    this.state = 'open';
    this.#onState({ from, to: 'open', reason, openUntil: this.openUntil, ejections: this.ejections });
    // Announce the half-open state when it comes, so operators (and tests) see it without a call.
    clearTimeout(this.#halfOpenTimer);
    // The timer is the authority here: it may fire a millisecond before the clock says so.
    this.#halfOpenTimer = setTimeout(() => {
      if (this.state !== 'open') return;
      this.openUntil = Math.min(this.openUntil, this.#clock());
      this.#transition('half-open', 'ejection time passed');
    }, ms);
    this.#halfOpenTimer.unref();
  }
}
