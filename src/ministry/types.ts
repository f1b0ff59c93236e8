/**
 * The contract between hes-gate and the ministry's HES G2G service, as the rest of the
 * product sees it. The undici-based client (client.ts) implements it; the resilience guard
 * (guard.ts) wraps it; the status service and the refresher consume it.
 */
import type { MinistryLookup } from '../types.js';
import type { HesGateError } from '../errors.js';

/** The G2G service's six calls, relative to the environment's base URL. */
export const MINISTRY_ENDPOINTS = [
  'check-hes-code',
  'check-hes-code-plus',
  'check-hes-codes',
  'check-hes-codes-plus',
  'check-employee-hes-code',
  'check-visitor-hes-code',
] as const;

export type MinistryEndpoint = (typeof MINISTRY_ENDPOINTS)[number];

/**
 * The most codes one bulk call may carry: the ministry answers 400 `maxhescodecountexceeded`
 * beyond it. The client chunks by it, the refresher sizes its steps by it, the simulator enforces it.
 */
export const MINISTRY_BULK_LIMIT = 500;

/** Outcome label for metrics: `ok`, `not-found`, `expired`, or the error code. */
export type CallOutcome = 'ok' | 'not-found' | 'expired' | string;

/** What the client reports after each HTTP call (observability stays out of the client). */
export interface MinistryCallEvent {
  endpoint: MinistryEndpoint;
  outcome: CallOutcome;
  durationMs: number;
  /** Codes asked in this call (1 for single calls, up to MINISTRY_BULK_LIMIT for bulk). */
  codes: number;
}

export interface VisitorDetails {
  city: string;
  district: string;
  explicitAddress: string;
  location?: { latitude: number; longitude: number };
}

/** Per-code result of a bulk call: a definitive lookup, or an error for that code alone. */
export type BulkResult = Map<string, MinistryLookup | HesGateError>;

export interface MinistryClient {
  /** Codes are normalised (10 upper-case letters/digits) by the caller. Rejects with HesGateError. */
  checkHesCode(code: string): Promise<MinistryLookup>;
  checkHesCodePlus(code: string): Promise<MinistryLookup>;
  /** Any number of codes; sent in chunks of at most MINISTRY_BULK_LIMIT, chunks one after another. */
  checkHesCodes(codes: readonly string[]): Promise<BulkResult>;
  checkHesCodesPlus(codes: readonly string[]): Promise<BulkResult>;
  checkEmployeeHesCode(code: string): Promise<MinistryLookup>;
  checkVisitorHesCode(code: string, visitor: VisitorDetails): Promise<MinistryLookup>;
  close(): Promise<void>;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/** The guard's `state` event: the circuit breaker moved (circuit-breaker.ts). */
export interface CircuitStateEvent {
  from: CircuitState;
  to: CircuitState;
  reason: string;
  openUntil: number;
  ejections: number;
}
