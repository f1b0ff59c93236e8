/**
 * What a list entry says about a card tap now: the rules of docs/vehicles.md "Deciding on board",
 * as a pure function (the clock is passed in; decide() then applies the gate's own rules).
 *
 *   list age = now − issuedAt        (now: the signed clock, never behind a verified issuedAt)
 *   fresh (age ≤ min(maxListAgeMs, horizonMs))        stale
 *     pass      → RISKLESS until validUntil ?? issuedAt + horizonMs   unavailable, lastKnown = that record
 *     risky     → RISKY                                               unavailable, lastKnown RISKY (denied)
 *     expired   → CODE_EXPIRED                                        unavailable
 *     not-found → CODE_NOT_FOUND                                      unavailable
 *     unknown   → unavailable (the outage policy)                     unavailable
 *
 * A stale list's verdict is a last-known status fetched at `issuedAt`, so the gate's outage policy
 * (and its lastKnownMaxAgeMs) decides, as a station does when the ministry is down.
 */
import type { StatusOutcome, StatusRecord } from '../../types.js';
import type { EntryValue } from '../list/types.js';

/** The signed times of the list version held. */
export interface ListTimes {
  issuedAt: number;
  horizonMs: number;
}

/** Whether a list of these times still decides at `now` by itself. */
export function listIsFresh(list: ListTimes, now: number, maxListAgeMs: number): boolean {
  return now - list.issuedAt <= Math.min(maxListAgeMs, list.horizonMs);
}

function record(value: EntryValue, list: ListTimes): StatusRecord {
  const horizon = list.issuedAt + list.horizonMs;
  return {
    status: value.cls === 'risky' ? 'RISKY' : 'RISKLESS',
    expiresAt: value.cls === 'pass' && value.validUntil !== null ? value.validUntil : horizon,
    fetchedAt: list.issuedAt,
  };
}

/** The status outcome of a listed card's entry at `now` (the signed clock). */
export function listOutcome(value: EntryValue, list: ListTimes, now: number, maxListAgeMs: number): StatusOutcome {
  const fresh = listIsFresh(list, now, maxListAgeMs);
  switch (value.cls) {
    case 'pass':
    case 'risky':
      return fresh ? { kind: 'status', record: record(value, list), source: 'list' } : { kind: 'unavailable', lastKnown: record(value, list) };
    case 'expired':
      return fresh ? { kind: 'expired', source: 'list' } : { kind: 'unavailable' };
    case 'not-found':
      return fresh ? { kind: 'not-found', source: 'list' } : { kind: 'unavailable' };
    default:
      return { kind: 'unavailable' };
  }
}
