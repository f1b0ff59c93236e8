/**
 * How far a node is behind its city: the newest change entry it knows the stream holds (its
 * "tip", from XINFO STREAM or from reading to the end) against the last one it applied.
 *
 * Entries: `entries-added` at the tip minus the applied position's seq (CityPosition.changesSeq
 * counts every entry the stream received up to the applied one, so this needs no scan).
 * Seconds: the tip's id time minus the applied id's time (both are Redis's clock, so the two
 * clocks of hub and station never mix); 0 when caught up, and 0 while nothing was applied yet
 * (position "0-0": no time to compare with — the entry count still shows the lag).
 */
import type { CityPosition } from '../types.js';
import { compareIds, idTime, ZERO_ID, type StreamInfo } from './stream-info.js';

export class LagTracker {
  #tipId = ZERO_ID;
  #tipSeq = 0;

  /** What XINFO STREAM said the stream holds. */
  observe(info: Pick<StreamInfo, 'lastId' | 'entriesAdded'>): void {
    if (compareIds(info.lastId, this.#tipId) >= 0) {
      this.#tipId = info.lastId;
      this.#tipSeq = info.entriesAdded;
    }
  }

  /** A read returned fewer entries than asked: the stream held nothing newer than `position` then. */
  reachedEnd(position: CityPosition): void {
    this.observe({ lastId: position.changesId, entriesAdded: position.changesSeq });
  }

  /** Forget the tip (a new epoch or key space: ids of the old stream mean nothing). */
  reset(): void {
    this.#tipId = ZERO_ID;
    this.#tipSeq = 0;
  }

  lag(position: CityPosition | undefined): { seconds: number; entries: number } {
    if (position === undefined) return { seconds: 0, entries: this.#tipSeq };
    const entries = Math.max(0, this.#tipSeq - position.changesSeq);
    if (entries === 0 || position.changesId === ZERO_ID) return { seconds: 0, entries };
    return { seconds: Math.max(0, idTime(this.#tipId) - idTime(position.changesId)) / 1000, entries };
  }
}
