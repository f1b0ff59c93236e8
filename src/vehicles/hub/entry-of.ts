/**
 * What a bound card is on the vehicle list at the moment a version is built (docs/vehicles.md):
 *
 *   no status held for its code       → unknown   (the vehicle's outage policy decides)
 *   RISKY                             → risky
 *   RISKLESS, expired at or before now → expired
 *   RISKLESS                          → pass, valid until its expiry rounded down to the minute;
 *                                        null (the version's horizon) when it expires after it
 *
 * A pure function of the row and the build's clock: the worker calls it a million times.
 */
import type { HealthStatus } from '../../types.js';
import type { EntryValue } from '../list/types.js';

const MINUTE_MS = 60_000;

export function entryOf(status: HealthStatus | null, expiresAt: number | null, profile: string, now: number, horizonEnd: number): EntryValue {
  if (status === null || expiresAt === null) return { cls: 'unknown', validUntil: null, profile };
  if (status === 'RISKY') return { cls: 'risky', validUntil: null, profile };
  if (expiresAt <= now) return { cls: 'expired', validUntil: null, profile };
  return { cls: 'pass', validUntil: expiresAt > horizonEnd ? null : Math.floor(expiresAt / MINUTE_MS) * MINUTE_MS, profile };
}
