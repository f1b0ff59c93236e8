/**
 * A node's statuses against the city's: the statuses a node decides from live in its memory,
 * filled by the city (snapshot, change stream) and by its own taps; its SQLite file is read only
 * at start (StatusService.restore). So a status altered or given a future time in that file —
 * an edit, an old backup — can only reach the node's decisions through what it restored, and
 * that is what the first reconciliation round after a start checks, once:
 *
 *   codes restored from disk ─> HMGET hg:<kid>:statuses (500 fields a call) ─> open (in slices)
 *     ─> StatusService.repairShared: where the city's answer differs, it is held over ours
 *        whatever the times (a row edited on disk may claim any time), except over a newer
 *        RISKY this node learned since ─> persisted through the store worker
 *
 * Why not a digest tree like the bindings': the city's statuses hash and a node's statuses are
 * not the same set (the hash keeps every code a rotation or a write ever answered, bound or
 * not; a node keeps its own taps' answers and drops those past the maximum age), so their roots
 * would never agree. The codes a node restored are the set both sides can name; reading them
 * costs once per start what a snapshot's statuses cost, and nothing while the node runs.
 * A code the city has no answer for is left as it is (the node's own ministry answer).
 */
import type { Redis } from 'ioredis';
import type { SharedStatus } from '../../status/types.js';
import type { CityKeyspace } from '../keyspace.js';
import type { CityWire } from '../wire.js';
import { forEachInSlices } from '../hub/slices.js';

/** What the check needs of the status service (status-service.ts implements it). */
export interface RestoredStatuses {
  /** The codes read from disk at start, once (an empty list afterwards). */
  takeRestored(): string[];
  repairShared(items: Iterable<SharedStatus>): { differing: number; repaired: number };
}

export interface StatusCheckResult {
  checked: number;
  differing: number;
  repaired: number;
}

const BATCH = 500;

/** Compare `codes` with the city's statuses and repair what differs; `read` counts the bytes of each reply. */
export async function checkStatuses(
  o: { redis: Redis; names: CityKeyspace; wire: CityWire; statuses: RestoredStatuses; read: <T>(p: Promise<T>) => Promise<T> },
  codes: readonly string[],
): Promise<StatusCheckResult> {
  const result: StatusCheckResult = { checked: 0, differing: 0, repaired: 0 };
  for (let i = 0; i < codes.length; i += BATCH) {
    const part = codes.slice(i, i + BATCH);
    const fields: string[] = [];
    await forEachInSlices(part, (code) => fields.push(o.wire.statusFieldOf(code)));
    const values = await o.read(o.redis.hmget(o.names.statuses, ...fields));
    const items: SharedStatus[] = [];
    await forEachInSlices(fields, (field, j) => {
      const v = values[j];
      // A value that does not open, or names another code, is no answer for this one.
      const s = v == null ? undefined : o.wire.status(field, v);
      if (s !== undefined && s.code === part[j]) items.push(s);
    });
    const r = o.statuses.repairShared(items);
    result.checked += part.length;
    result.differing += r.differing;
    result.repaired += r.repaired;
  }
  return result;
}
