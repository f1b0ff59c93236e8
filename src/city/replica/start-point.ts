/**
 * Where a (re)starting reader begins: from its position, or from a snapshot.
 *
 *   no position ─────────────────────────────┐
 *   position of another key space (kid) ─────┤
 *   position of another epoch (Redis replaced)┤──> snapshot
 *   stream older than the position (reset) ───┤
 *   entries after the position trimmed away ──┘──> snapshot, counted as "after trim"
 *   otherwise ──────────────────────────────────> resume from the position
 */
import type { CityPosition } from '../types.js';
import { compareIds, trimmedAfter, type StreamInfo } from './stream-info.js';

export type SnapshotReason = 'new' | 'other key' | 'other epoch' | 'stream reset' | 'trimmed';

export type StartPoint = { resume: CityPosition } | { snapshot: SnapshotReason };

export function startPoint(position: CityPosition | undefined, kid: string, epoch: string, changes: StreamInfo): StartPoint {
  if (position === undefined) return { snapshot: 'new' };
  if (position.kid !== kid) return { snapshot: 'other key' };
  if (position.epoch !== epoch) return { snapshot: 'other epoch' };
  if (compareIds(changes.lastId, position.changesId) < 0) return { snapshot: 'stream reset' };
  if (trimmedAfter(changes, position.changesId, position.changesSeq)) return { snapshot: 'trimmed' };
  return { resume: position };
}
