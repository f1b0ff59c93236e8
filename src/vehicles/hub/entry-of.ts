/**
 * What a bound card is on the vehicle list at the moment a version is built (docs/vehicles.md):
 *
 *   finding `expired` for its code            → expired   (the ministry said the code is no longer valid)
 *   finding `not-found`, learnt ≤ 1 h ago      → not-found
 *   finding `not-found`, older                 → unknown   (the vehicle's outage policy decides)
 *   no status held for its code               → unknown
 *   RISKY                                     → risky
 *   RISKLESS, expired at or before now        → expired
 *   RISKLESS learnt over cache.lastKnownMaxAgeMs ago → unknown (a stalled refresher's word is not the ministry's)
 *   RISKLESS                                  → pass, valid until its expiry rounded down to the minute;
 *                                               null (the version's horizon) when it expires after it
 *
 * A code has a status or a finding, never both (cards/store.ts); were both there, the finding
 * decides (the stricter). A pure function of the row and the build's clock: the worker calls it
 * a million times.
 */
import type { HealthStatus } from '../../types.js';
import type { FindingKind } from '../../status/types.js';
import type { EntryValue } from '../list/types.js';

const MINUTE_MS = 60_000;

/**
 * How long a `not-found` denies on the list. A station holds "not found" only briefly
 * (`cache.notFoundTtlMs`) and asks again: a code the ministry did not know for a moment (a code
 * created seconds before it was bound) must not deny on buses for hours. The hub asks again
 * too — its rotation re-asks every bound code and stamps the finding anew — so a code the
 * ministry keeps not knowing stays `not-found`, and one it learns turns `pass` with the next
 * rotation step that reaches it and the next delta. One hour covers a rotation of a million codes
 * at 1 call/s (33 min, docs/cards.md) with room; a finding nobody re-confirmed for longer (the
 * refresher stalled, the ministry failing) is no longer the ministry's word: `unknown`, and the
 * outage policy decides, as at a station whose ministry is down. `expired` has no such bound: a
 * code past its validity never becomes valid again.
 */
export const NOT_FOUND_MAX_AGE_MS = 3_600_000;

export function entryOf(
  status: HealthStatus | null,
  expiresAt: number | null,
  profile: string,
  now: number,
  horizonEnd: number,
  finding: FindingKind | null,
  foundAt: number | null,
  fetchedAt: number | null = null,
  statusMaxAgeMs = Number.POSITIVE_INFINITY,
): EntryValue {
  if (finding === 'expired') return { cls: 'expired', validUntil: null, profile };
  if (finding === 'not-found') return { cls: foundAt !== null && now - foundAt <= NOT_FOUND_MAX_AGE_MS ? 'not-found' : 'unknown', validUntil: null, profile };
  if (status === null || expiresAt === null) return { cls: 'unknown', validUntil: null, profile };
  if (status === 'RISKY') return { cls: 'risky', validUntil: null, profile };
  if (expiresAt <= now) return { cls: 'expired', validUntil: null, profile };
  // A RISKLESS nobody confirmed for longer than a station would still decide from (its refresher
  // stalled, the ministry failing): not the ministry's word any more; the outage policy decides.
  if (fetchedAt !== null && now - fetchedAt > statusMaxAgeMs) return { cls: 'unknown', validUntil: null, profile };
  return { cls: 'pass', validUntil: expiresAt > horizonEnd ? null : Math.floor(expiresAt / MINUTE_MS) * MINUTE_MS, profile };
}
