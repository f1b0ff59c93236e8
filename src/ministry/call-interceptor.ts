/**
 * How the ministry guard is built: each duty (the 429 pause, the in-flight cap, the circuit
 * breaker, retries) is a tiny interceptor around the next one, composed as undici composes its
 * dispatcher interceptors. An interceptor may refuse a call (throw a coded error), watch its
 * outcome, or call `next` again.
 *
 *   retries ─> pause (429) ─> in-flight cap ─> circuit breaker ─> the client's call
 */
import { HesGateError, type ErrorCode } from '../errors.js';

/** One call to the ministry, as the guard passes it along. */
export type Call = <T>(fn: () => Promise<T>) => Promise<T>;

export type Interceptor = (next: Call) => Call;

/** The first interceptor is the outermost. */
export function compose(interceptors: readonly Interceptor[], call: Call): Call {
  return interceptors.reduceRight((next, intercept) => intercept(next), call);
}

/** A failure's code; anything not coded counts as HG_INTERNAL. */
export function codeOf(err: unknown): ErrorCode {
  return err instanceof HesGateError ? err.code : 'HG_INTERNAL';
}
