/**
 * Last-known statuses of bound codes across restarts: what is written after a refresh, and
 * what is read back at start-up. Only RISKLESS and RISKY are kept (status, expiry, fetched-at —
 * never the plus fields); a code answered otherwise is deleted, except a holder last known
 * RISKY whose newest answer was unrecognised: that RISKY row stays, so a restart under the
 * `pass` outage policy still denies them.
 */
import { KIND_RISKLESS, KIND_RISKY, KIND_UNRECOGNISED_AFTER_RISKY, type Entry, type StatusCache } from './status-cache.js';
import type { PersistedStatus, StatusPersistence } from './types.js';

/** Collects the writes of one batch of answers, then hands them to the persistence at once. */
export class PersistBatch {
  private readonly save: PersistedStatus[] = [];
  private readonly drop: string[] = [];

  constructor(private readonly cache: StatusCache) {}

  add(code: string, entry: Entry): void {
    if (entry.kind === KIND_RISKLESS || entry.kind === KIND_RISKY) this.save.push({ code, record: this.cache.toRecord(entry, false) });
    else if (entry.kind !== KIND_UNRECOGNISED_AFTER_RISKY) this.drop.push(code);
  }

  flush(p: StatusPersistence): void {
    if (this.save.length > 0) p.saveStatuses(this.save);
    if (this.drop.length > 0) p.deleteStatuses(this.drop);
  }
}

/** Load persisted statuses into the cache, deleting those past the maximum age. Returns how many were loaded, and their codes. */
export function restoreStatuses(cache: StatusCache, p: StatusPersistence, now: number, lastKnownMaxAgeMs: number): { loaded: number; codes: string[] } {
  const tooOld: string[] = [];
  const codes: string[] = [];
  let n = 0;
  for (const { code, record } of p.loadStatuses()) {
    if (now - record.fetchedAt > lastKnownMaxAgeMs) {
      tooOld.push(code);
      continue;
    }
    cache.put(code, { kind: 'status', status: record.status, expiresAt: record.expiresAt }, record.fetchedAt);
    codes.push(code);
    n++;
  }
  if (tooOld.length > 0) p.deleteStatuses(tooOld);
  return { loaded: n, codes };
}
