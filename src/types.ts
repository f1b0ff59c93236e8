/**
 * The domain's shared vocabulary: credentials, statuses, findings and decisions.
 * Every stage of a tap speaks these types; no stage depends on another's internals.
 *
 * Times are milliseconds since the epoch (numbers), taken from an injected clock.
 */

/** A clock returning milliseconds since the epoch. Injected everywhere a time is read. */
export type Clock = () => number;

/**
 * One-shot timers, injected wherever something waits (back-off, silence framing), so tests
 * drive them and never sleep. The one timer interface of hes-gate, beside the one clock.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * One named readiness check of `/readyz`: whether it passes, and a short detail an operator can
 * act on. Each module that owns a concept (the ministry target, the store, the devices) provides
 * its own; the route only runs the list.
 */
export interface ReadinessCheck {
  name: string;
  check(): { ok: boolean; detail: string };
}

export type CredentialKind = 'card' | 'qr' | 'hes';

/** What a reader or validator presented, before it is resolved to a HES code. */
export interface Credential {
  kind: CredentialKind;
  /**
   * The value presented (card id, QR payload, typed code). Never logged. From a reader, card
   * ids and QR payloads arrive canonical (its profile's rules applied); from a validator, as
   * typed or scanned (decisions/resolve.ts canonicalises them).
   */
  value: string;
  gate: string;
  /** Reader id for serial taps; absent for HTTP validators. */
  reader?: string;
  at: number;
}

export type HealthStatus = 'RISKLESS' | 'RISKY';

/** Optional "plus" fields. `null` means the holder did not consent to sharing, not "no". */
export interface PlusFields {
  isVaccinated: boolean | null;
  isImmune: boolean | null;
  isTestDataShared: boolean | null;
  /** Epoch ms of the last negative PCR test, or null. */
  lastNegativeTestAt: number | null;
}

/** A status the ministry gave for a code, with when we learned it. */
export interface StatusRecord {
  status: HealthStatus;
  /** When the shared code stops being valid (epoch ms). */
  expiresAt: number;
  /** When the ministry said this (epoch ms). */
  fetchedAt: number;
  plus?: PlusFields;
}

/**
 * The ministry's definitive answer about one code. Anything that is not definitive
 * (timeouts, 5xx, bad bodies, unknown statuses) is a MinistryError instead.
 */
export type MinistryLookup =
  | { kind: 'status'; status: HealthStatus; expiresAt: number; plus?: PlusFields }
  | { kind: 'not-found' }
  | { kind: 'expired' };

/**
 * What the status stage found for a code: the status stage produces it, the policy decides
 * from it (both import it from here, so neither depends on the other).
 */
export type StatusOutcome =
  | { kind: 'status'; record: StatusRecord; source: 'cache' | 'ministry' | 'stale' | 'list' }
  | { kind: 'not-found'; source: 'cache' | 'ministry' | 'list' }
  | { kind: 'expired'; source: 'cache' | 'ministry' | 'list' }
  /**
   * The ministry could not answer in time, or gave a status that is neither RISKLESS nor
   * RISKY; `lastKnown` is the newest status held that may still decide, if any.
   */
  | { kind: 'unavailable'; lastKnown?: StatusRecord };

/** Stable decision reasons (public contract; see README "Reasons"). */
export type Reason =
  | 'RISKLESS'
  | 'RISKY'
  | 'CODE_EXPIRED'
  | 'CODE_NOT_FOUND'
  | 'CODE_INVALID'
  | 'CARD_UNBOUND'
  | 'MINISTRY_UNAVAILABLE'
  | 'REPEAT_TAP'
  | 'REQUIREMENT_UNMET'
  | 'OUTSIDE_HOURS';

/**
 * Where the status behind a decision came from (public contract). `list`: a vehicle's signed
 * card list, fresh enough to decide (src/vehicles/vehicle/).
 */
export type Source = 'cache' | 'ministry' | 'stale' | 'list' | 'none';

export type Verdict = 'pass' | 'deny';

export interface Decision {
  verdict: Verdict;
  reason: Reason;
  source: Source;
}

/** What the ministry-unavailable policy of a gate does. */
export type UnavailablePolicy = 'deny' | 'pass' | 'last-known';
