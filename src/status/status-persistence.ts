/**
 * Last-known statuses of bound codes across restarts: what is written after a refresh, and
 * what is read back at start-up. Only RISKLESS and RISKY are kept as statuses (status, expiry,
 * fetched-at — never the plus fields). The ministry's findings `expired` and `not-found` are
 * kept as findings (code, kind, when), which replace the code's status: a hub builds its
 * vehicle list from both (vehicles/hub/entry-of.ts); they are never read back into the cache,
 * so a station decides after a restart exactly as it did without them. A code answered with an
 * unrecognised status is deleted, except a holder last known RISKY: that RISKY row stays, so a
 * restart under the `pass` outage policy still denies them.
 */
import { KIND_RISKLESS, KIND_RISKY, KIND_UNRECOGNISED_AFTER_RISKY, type Entry, type StatusCache } from './status-cache.js';
import type { PersistedFinding, PersistedStatus, StatusPersistence } from './types.js';

/** Collects the writes of one batch of answers, then hands them to the persistence at once. */
export class PersistBatch {
  private readonly save: PersistedStatus[] = [];
  private readonly found: PersistedFinding[] = [];
  private readonly drop: string[] = [];

  constructor(private readonly cache: StatusCache) {}

  add(code: string, entry: Entry): void {
    if (entry.kind === KIND_RISKLESS || entry.kind === KIND_RISKY) {
      this.save.push({ code, record: this.cache.toRecord(entry, false) });
      return;
    }
    const finding = this.cache.findingOf(entry);
    if (finding !== undefined) this.found.push({ code, ...finding });
    else if (entry.kind !== KIND_UNRECOGNISED_AFTER_RISKY) this.drop.push(code);
  }

  flush(p: StatusPersistence): void {
    if (this.save.length > 0) p.saveStatuses(this.save);
    if (this.found.length > 0) p.saveFindings(this.found);
    if (this.drop.length > 0) p.deleteStatuses(this.drop);
  }
}

/**
 * Load persisted statuses into the cache, deleting those — and findings — past the maximum age.
 * Returns how many statuses were loaded, and their codes.
 */
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
  p.pruneFindings(now - lastKnownMaxAgeMs);
  return { loaded: n, codes };
}
