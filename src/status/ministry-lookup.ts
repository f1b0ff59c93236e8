/**
 * Asking the ministry about one code on behalf of taps: one shared call per code (single
 * flight), and a wait bounded by the tap's budget that never aborts the call.
 *
 *   ask(code) ──> call in flight for the code? ──yes──> join it (coalesced)
 *                       └─no──> ministry(code) ──> settle(code, answer | error) ──> every asker
 *
 * The tap's wait is `within` (deadline.ts): the call runs on under its own timeout and still settles.
 */
import { HesGateError, isHesGateError } from '../errors.js';
import type { MinistryLookup } from '../types.js';
import type { Answer } from './types.js';

/** The ministry as the status service needs it: one code at a time. */
export type LookupFn = (code: string) => Promise<MinistryLookup>;

/**
 * What a ministry result means for the cache: an answer, or undefined for a failure that says
 * nothing about the code (timeouts, 5xx, bad bodies, refused credentials). A health status
 * that is neither RISKLESS nor RISKY comes from the client as an error, but the ministry did
 * answer: it is `unrecognised`.
 */
export function answerOf(result: MinistryLookup | HesGateError): Answer | undefined {
  if (!(result instanceof HesGateError)) return result;
  return isHesGateError(result, 'HG_MINISTRY_UNKNOWN_STATUS') ? { kind: 'unrecognised' } : undefined;
}

function asError(err: unknown): HesGateError {
  return err instanceof HesGateError ? err : new HesGateError('HG_INTERNAL', 'ministry lookup failed unexpectedly', { cause: err });
}

export class MinistryLookups<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  /**
   * @param ministry the call itself
   * @param counters counts calls started (after sharing) and lookups that joined one in flight
   * @param settle turns the call's result into what askers get (and fills the cache); it runs
   *   once per call, before any asker sees the result
   */
  constructor(
    private readonly ministry: LookupFn,
    private readonly counters: { ministryCalls: number; coalesced: number },
    private readonly settle: (code: string, result: MinistryLookup | HesGateError) => T,
  ) {}

  /** Start (or join) the call for a code. Never rejects: failures settle as a HesGateError. */
  ask(code: string): Promise<T> {
    const running = this.inflight.get(code);
    if (running !== undefined) {
      this.counters.coalesced++;
      return running;
    }
    this.counters.ministryCalls++;
    const p = this.ministry(code).then(
      (result) => this.settle(code, result),
      (err: unknown) => this.settle(code, asError(err)),
    );
    this.inflight.set(code, p);
    void p.finally(() => this.inflight.delete(code));
    return p;
  }

  /** Codes with a call in flight. */
  get size(): number {
    return this.inflight.size;
  }

  /** Settle when every call in flight has finished (for graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.inflight.values()]);
  }
}
