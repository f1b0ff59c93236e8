/**
 * The decision: a pure function of what is known about a tap. No I/O, no clock of its own.
 *
 *   resolution ──┬─ invalid / unbound ───────────────> deny (CODE_INVALID / CARD_UNBOUND)
 *                └─ code, or a card listed on board ─> status outcome
 *                            ├─ status (cache|ministry|stale|list) ─> expiry, risk, repeat tap, hours
 *                            ├─ not-found / expired ──────────> deny
 *                            └─ unavailable ─> gate policy: deny | pass | last-known (bounded age)
 *
 * Safety rules that no policy overrides: a known RISKY status never passes, and an unknown
 * status never passes as RISKLESS (an unavailable pass says MINISTRY_UNAVAILABLE).
 */
import type { Decision, PlusFields, Reason, Source, StatusOutcome, StatusRecord } from '../types.js';
import type { GatePolicy, TimeWindow } from './types.js';

/**
 * The one decision made when nothing could decide (no status by the deadline and nothing the
 * gate's policy could use, or a serial gate whose decision never came): deny, and say why.
 */
export const FALLBACK_DECISION: Readonly<Decision> = Object.freeze({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });

/** Every source a decision can give, in the order README lists them (the OpenAPI enum). */
export const SOURCES: readonly Source[] = Object.freeze(['cache', 'ministry', 'stale', 'list', 'none']);

export type Resolution =
  | { kind: 'invalid' }
  | { kind: 'unbound' }
  | { kind: 'code'; code: string; profile?: string }
  /**
   * A card a vehicle found on its signed list (or looked for with no list yet): no HES code on
   * board, the list gave the status outcome. Decided like a code; `profile` is the list's.
   */
  | { kind: 'listed'; profile?: string };

export interface DecideInput {
  now: number;
  policy: GatePolicy;
  resolution: Resolution;
  /** Required when `resolution.kind` is `code` or `listed`. */
  status?: StatusOutcome;
  /** For card taps: when this card last passed a gate of the same group. */
  lastPassAt?: number;
}

function deny(reason: Reason, source: Source): Decision {
  return { verdict: 'deny', reason, source };
}

/** Minutes since local midnight. */
function localMinutes(now: number, utcOffsetMinutes: number): number {
  const minutes = Math.floor(now / 60_000) + utcOffsetMinutes;
  return ((minutes % 1440) + 1440) % 1440;
}

function parseHhMm(text: string): number {
  const [h, m] = text.split(':');
  return Number(h) * 60 + Number(m);
}

function inWindows(minute: number, windows: readonly TimeWindow[]): boolean {
  for (const w of windows) {
    const from = parseHhMm(w.from);
    const to = parseHhMm(w.to);
    if (from <= to ? minute >= from && minute < to : minute >= from || minute < to) return true;
  }
  return false;
}

function meetsRequirement(policy: GatePolicy, plus: PlusFields | undefined, now: number): boolean {
  if (policy.requirement === 'none') return true;
  if (plus === undefined) return false;
  if (plus.isVaccinated === true) return true;
  if (policy.requirement === 'vaccinated') return false;
  if (plus.isImmune === true) return true;
  if (policy.requirement === 'vaccinated-or-immune') return false;
  const tested = plus.lastNegativeTestAt;
  return tested !== null && tested <= now && now - tested <= policy.negativeTestValidityMs;
}

/** Decide from a status that is usable (fresh, just fetched, or last-known within bounds). */
function fromRecord(input: DecideInput, record: StatusRecord, source: Source, profile: string | undefined): Decision {
  const { now, policy } = input;
  if (record.status === 'RISKY') return deny('RISKY', source);
  if (record.expiresAt <= now) return deny('CODE_EXPIRED', source);
  if (!meetsRequirement(policy, record.plus, now)) return deny('REQUIREMENT_UNMET', source);
  if (
    policy.repeatTapWindowMs > 0 &&
    input.lastPassAt !== undefined &&
    now - input.lastPassAt < policy.repeatTapWindowMs
  ) {
    return deny('REPEAT_TAP', source);
  }
  if (profile !== undefined) {
    // A profile is text from a binding: `constructor` must find no window, not Object.prototype's.
    const windows = Object.hasOwn(policy.profileHours, profile) ? policy.profileHours[profile] : undefined;
    if (windows !== undefined && !inWindows(localMinutes(now, policy.utcOffsetMinutes), windows)) {
      return deny('OUTSIDE_HOURS', source);
    }
  }
  return { verdict: 'pass', reason: 'RISKLESS', source };
}

export function decide(input: DecideInput): Decision {
  const { resolution, status, policy, now } = input;
  if (resolution.kind === 'invalid') return deny('CODE_INVALID', 'none');
  if (resolution.kind === 'unbound') return deny('CARD_UNBOUND', 'none');
  if (status === undefined) return deny('MINISTRY_UNAVAILABLE', 'none');

  switch (status.kind) {
    case 'status':
      return fromRecord(input, status.record, status.source, resolution.profile);
    case 'not-found':
      return deny('CODE_NOT_FOUND', status.source);
    case 'expired':
      return deny('CODE_EXPIRED', status.source);
    case 'unavailable': {
      const last = status.lastKnown;
      // A holder last known RISKY is denied whatever the outage policy says.
      if (last !== undefined && last.status === 'RISKY') return deny('RISKY', 'stale');
      if (policy.ministryUnavailable === 'deny') return deny('MINISTRY_UNAVAILABLE', 'none');
      if (policy.ministryUnavailable === 'pass') {
        return { verdict: 'pass', reason: 'MINISTRY_UNAVAILABLE', source: 'none' };
      }
      if (last !== undefined && now - last.fetchedAt <= policy.lastKnownMaxAgeMs) {
        return fromRecord(input, last, 'stale', resolution.profile);
      }
      return policy.lastKnownFallback === 'pass'
        ? { verdict: 'pass', reason: 'MINISTRY_UNAVAILABLE', source: 'none' }
        : deny('MINISTRY_UNAVAILABLE', 'none');
    }
  }
}
