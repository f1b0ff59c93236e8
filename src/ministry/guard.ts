/**
 * Resilience around the ministry client: a circuit breaker with growing ejection times, a
 * Retry-After pause for 429, and retries that stay inside the call's own time and a retry
 * budget. Learned from Envoy (retries inside the overall timeout; retry budget ≈ 20 % of active
 * requests; outlier ejection whose duration grows with each ejection).
 *
 *   closed ──(N consecutive failures, or failure rate ≥ R over ≥ M calls)──> open
 *   open ──(ejection time passed)──> half-open: one probe call at a time
 *   half-open ──probe ok──> closed        half-open ──probe fails──> open (longer)
 *   any ──429──> paused until Retry-After (calls fail fast with HG_MINISTRY_RATE_LIMITED)
 *
 * A failure here is about availability: timeouts, resets, 5xx, bodies that are not JSON, 401/403.
 * Definitive answers (a status, not found, expired) and data oddities (an unknown status or
 * errorKey from a ministry that answered) count as success. Wrong credentials open the circuit
 * too (repeating them helps no one), and stay reported as such.
 */
import { EventEmitter } from 'node:events';
import { HesGateError, type ErrorCode } from '../errors.js';
import type { Clock, MinistryLookup } from '../types.js';
import type { BulkResult, MinistryClient, VisitorDetails } from './types.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface GuardOptions {
  clock: Clock;
  /** Consecutive failures that open the circuit. @default 5 */
  consecutiveFailures?: number;
  /** Failure rate (0–1) over the window that opens the circuit. @default 0.5 */
  failureRate?: number;
  /** Calls in the window before the rate counts. @default 20 */
  minimumCalls?: number;
  /** Length of the failure-rate window, in ms. @default 10000 */
  windowMs?: number;
  /** First ejection time, in ms; doubles with each consecutive ejection. @default 1000 */
  baseEjectionMs?: number;
  /** Longest ejection time, in ms. @default 30000 */
  maxEjectionMs?: number;
  /** Retries of one single-code call at most. @default 1 */
  maxRetries?: number;
  /** A call is retried only if this much of its time budget is left, in ms. @default 250 */
  retryMinRemainingMs?: number;
  /** The whole time one single-code call may take, retries included, in ms. @default 2000 */
  callBudgetMs?: number;
  /** Retries in flight may be at most this share of calls in flight. @default 0.2 */
  retryBudgetRatio?: number;
  /** Retries always allowed in flight regardless of the ratio. @default 3 */
  retryBudgetMin?: number;
  /**
   * Calls in flight (queued behind busy connections included) beyond which new calls fail
   * fast: a tap stuck behind hundreds of queued calls cannot be answered in time anyway, and a
   * struggling ministry should not meet a wall of them when it recovers. @default 64
   */
  maxInFlight?: number;
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
const RETRYABLE = new Set<ErrorCode>(['HG_MINISTRY_CONNECTION', 'HG_MINISTRY_SERVER_ERROR']);

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

function codeOf(err: unknown): ErrorCode {
  return err instanceof HesGateError ? err.code : 'HG_INTERNAL';
}

export class GuardedMinistry extends EventEmitter implements MinistryClient {
  private readonly inner: MinistryClient;
  private readonly clock: Clock;
  private readonly o: Required<Omit<GuardOptions, 'clock'>>;
  private state: CircuitState = 'closed';
  private consecutive = 0;
  private ejections = 0;
  private openUntil = 0;
  private pausedUntil = 0;
  private probeInFlight = false;
  private windowStart = 0;
  private windowCalls = 0;
  private windowFailures = 0;
  private active = 0;
  private halfOpenTimer: NodeJS.Timeout | undefined;
  private activeRetries = 0;
  private readonly stats = { rejected: 0, shed: 0, retries: 0, retriesDenied: 0, lastError: null as ErrorCode | null };

  constructor(inner: MinistryClient, options: GuardOptions) {
    super();
    this.inner = inner;
    this.clock = options.clock;
    this.o = {
      consecutiveFailures: options.consecutiveFailures ?? 5,
      failureRate: options.failureRate ?? 0.5,
      minimumCalls: options.minimumCalls ?? 20,
      windowMs: options.windowMs ?? 10_000,
      baseEjectionMs: options.baseEjectionMs ?? 1000,
      maxEjectionMs: options.maxEjectionMs ?? 30_000,
      maxRetries: options.maxRetries ?? 1,
      retryMinRemainingMs: options.retryMinRemainingMs ?? 250,
      callBudgetMs: options.callBudgetMs ?? 2000,
      retryBudgetRatio: options.retryBudgetRatio ?? 0.2,
      retryBudgetMin: options.retryBudgetMin ?? 3,
      maxInFlight: options.maxInFlight ?? 64,
    };
  }

  snapshot(): GuardStats {
    this.refreshState(this.clock());
    return { state: this.state, ejections: this.ejections, openUntil: this.openUntil, pausedUntil: this.pausedUntil, ...this.stats };
  }

  private transition(to: CircuitState, reason: string): void {
    if (this.state === to) return;
    const from = this.state;
    this.state = to;
    this.emit('state', { from, to, reason, openUntil: this.openUntil, ejections: this.ejections });
  }

  private refreshState(now: number): void {
    if (this.state === 'open' && now >= this.openUntil) this.transition('half-open', 'ejection time passed');
  }

  /** Throws when no call may go out now; returns whether this call is the half-open probe. */
  private admit(): boolean {
    const now = this.clock();
    if (now < this.pausedUntil) {
      this.stats.rejected++;
      throw new HesGateError('HG_MINISTRY_RATE_LIMITED', 'the ministry asked to slow down (429); calls pause until its Retry-After', {
        details: { retryAfterMs: this.pausedUntil - now },
      });
    }
    this.refreshState(now);
    if (this.active >= this.o.maxInFlight) {
      this.stats.shed++;
      throw new HesGateError('HG_MINISTRY_BUSY', `${this.active} ministry calls are already in flight; this one fails fast`, {
        details: { inFlight: this.active },
      });
    }
    if (this.state === 'closed') return false;
    if (this.state === 'half-open' && !this.probeInFlight) {
      this.probeInFlight = true;
      return true;
    }
    this.stats.rejected++;
    throw new HesGateError('HG_MINISTRY_CIRCUIT_OPEN', 'calls to the ministry are paused after repeated failures', {
      details: { retryInMs: Math.max(0, this.openUntil - now), lastError: this.stats.lastError },
    });
  }

  private onSuccess(probe: boolean): void {
    this.consecutive = 0;
    this.countInWindow(false);
    if (probe) {
      this.probeInFlight = false;
      this.transition('closed', 'probe succeeded');
      this.ejections = 0;
    }
  }

  private onFailure(err: unknown, probe: boolean): void {
    const code = codeOf(err);
    if (code === 'HG_MINISTRY_RATE_LIMITED') {
      const ms = Number((err as HesGateError).details?.retryAfterMs ?? 1000);
      this.pausedUntil = Math.max(this.pausedUntil, this.clock() + (Number.isFinite(ms) && ms > 0 ? ms : 1000));
      if (probe) this.probeInFlight = false;
      this.emit('paused', { until: this.pausedUntil });
      return;
    }
    if (!AVAILABILITY_FAILURES.has(code)) {
      this.onSuccess(probe); // the ministry answered; the data was odd
      return;
    }
    this.stats.lastError = code;
    this.consecutive++;
    const rateTripped = this.countInWindow(true);
    if (probe) {
      this.probeInFlight = false;
      this.eject(`probe failed: ${code}`);
    } else if (this.state === 'closed' && (this.consecutive >= this.o.consecutiveFailures || rateTripped)) {
      this.eject(rateTripped ? `failure rate over ${this.o.failureRate * 100}%: ${code}` : `${this.consecutive} consecutive failures: ${code}`);
    }
  }

  /** Count a call in the current window; true when the failure rate now trips the circuit. */
  private countInWindow(failed: boolean): boolean {
    const now = this.clock();
    if (now - this.windowStart >= this.o.windowMs) {
      this.windowStart = now;
      this.windowCalls = 0;
      this.windowFailures = 0;
    }
    this.windowCalls++;
    if (failed) this.windowFailures++;
    return this.windowCalls >= this.o.minimumCalls && this.windowFailures / this.windowCalls >= this.o.failureRate;
  }

  private eject(reason: string): void {
    this.ejections++;
    const ms = Math.min(this.o.baseEjectionMs * 2 ** (this.ejections - 1), this.o.maxEjectionMs);
    this.openUntil = this.clock() + ms;
    this.windowCalls = 0;
    this.windowFailures = 0;
    const from = this.state;
    this.state = 'open';
    this.emit('state', { from, to: 'open', reason, openUntil: this.openUntil, ejections: this.ejections });
    // Announce the half-open state when it comes, so operators (and tests) see it without a call.
    clearTimeout(this.halfOpenTimer);
    // The timer is the authority here: it may fire a millisecond before the clock says so.
    this.halfOpenTimer = setTimeout(() => {
      if (this.state !== 'open') return;
      this.openUntil = Math.min(this.openUntil, this.clock());
      this.transition('half-open', 'ejection time passed');
    }, ms);
    this.halfOpenTimer.unref();
  }

  private async guarded<T>(fn: () => Promise<T>, retry: boolean): Promise<T> {
    const started = this.clock();
    let attempt = 0;
    let holdsRetrySlot = false;
    try {
      for (;;) {
        const probe = this.admit();
        this.active++;
        try {
          const result = await fn();
          this.onSuccess(probe);
          return result;
        } catch (err) {
          this.onFailure(err, probe);
          const code = codeOf(err);
          const remaining = this.o.callBudgetMs - (this.clock() - started);
          if (!retry || attempt >= this.o.maxRetries || !RETRYABLE.has(code) || remaining < this.o.retryMinRemainingMs || this.state !== 'closed') {
            throw err;
          }
          if (!holdsRetrySlot) {
            const allowed = Math.max(this.o.retryBudgetMin, this.active * this.o.retryBudgetRatio);
            if (this.activeRetries >= allowed) {
              this.stats.retriesDenied++;
              throw err;
            }
            this.activeRetries++;
            holdsRetrySlot = true;
          }
          this.stats.retries++;
          attempt++;
        } finally {
          this.active--;
        }
        // A short jittered pause, so a burst of resets does not come back as a burst of retries.
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
      }
    } finally {
      if (holdsRetrySlot) this.activeRetries--;
    }
  }

  checkHesCode(code: string): Promise<MinistryLookup> {
    return this.guarded(() => this.inner.checkHesCode(code), true);
  }
  checkHesCodePlus(code: string): Promise<MinistryLookup> {
    return this.guarded(() => this.inner.checkHesCodePlus(code), true);
  }
  checkEmployeeHesCode(code: string): Promise<MinistryLookup> {
    return this.guarded(() => this.inner.checkEmployeeHesCode(code), true);
  }
  checkVisitorHesCode(code: string, visitor: VisitorDetails): Promise<MinistryLookup> {
    return this.guarded(() => this.inner.checkVisitorHesCode(code, visitor), true);
  }
  /** Bulk calls are not retried here: the refresher paces and backs off on its own. */
  checkHesCodes(codes: readonly string[]): Promise<BulkResult> {
    return this.guarded(() => this.inner.checkHesCodes(codes), false);
  }
  checkHesCodesPlus(codes: readonly string[]): Promise<BulkResult> {
    return this.guarded(() => this.inner.checkHesCodesPlus(codes), false);
  }
  close(): Promise<void> {
    clearTimeout(this.halfOpenTimer);
    return this.inner.close();
  }
}
