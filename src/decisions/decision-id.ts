/**
 * Decision ids: UUID version 7 (RFC 9562, section 5.7).
 *
 *   0                   1                   2                   3
 *   unix_ts_ms (48 bits) ─────────────────────── time of the decision, ms
 *   ver (4) = 7 │ counter (12 bits) ─────────── ids within one ms, in order (RFC 9562 6.2, method 1)
 *   var (2) = 10 │ random (62 bits) ──────────── crypto.randomFillSync, drawn 1,024 ids at a time
 *
 * Why not crypto.randomUUID(): ids are made on the tap's thread for every decision, and in the
 * throughput profile randomUUID (with its entropy-cache refills and serialisation) was the
 * largest single cost hes-gate adds to a cache hit. A v7 id costs a few table lookups, and it
 * sorts by time: a range of ids in the journal or the logs is a range of time.
 *
 * 62 random bits per id keep ids unguessable from one another; ids stay unique across stations
 * and restarts by those bits (a clash needs two of billions of ids in the same millisecond).
 * The counter keeps ids of one process strictly increasing: a clock that steps back reuses the
 * last millisecond, and more than 4,096 ids in one millisecond move on to the next.
 */
import { randomFillSync } from 'node:crypto';

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** The largest 12-bit counter. */
const COUNTER_MAX = 0xfff;
const POOL_IDS = 1024;

export interface DecisionIds {
  /** A new id for a decision made at `nowMs` (Unix ms). */
  next(nowMs: number): string;
}

export function decisionIds(fill: (b: Uint8Array) => void = (b) => void randomFillSync(b)): DecisionIds {
  const pool = new Uint8Array(POOL_IDS * 8);
  let at = pool.length;
  let lastMs = -1;
  let counter = 0;
  /** "tttttttt-tttt-7" for lastMs. */
  let prefix = '';

  return {
    next(nowMs: number): string {
      let ms = Math.floor(nowMs);
      if (ms > lastMs) {
        counter = 0;
      } else if (counter < COUNTER_MAX) {
        ms = lastMs;
        counter++;
      } else {
        ms = lastMs + 1;
        counter = 0;
      }
      if (ms !== lastMs) {
        lastMs = ms;
        const t = ms.toString(16).padStart(12, '0');
        prefix = `${t.slice(0, 8)}-${t.slice(8, 12)}-7`;
      }
      if (at === pool.length) {
        fill(pool);
        at = 0;
      }
      const p = pool;
      const o = at;
      at = o + 8;
      return (
        prefix +
        HEX[counter >> 8]![1]! +
        HEX[counter & 0xff]! +
        '-' +
        HEX[(p[o]! & 0x3f) | 0x80]! +
        HEX[p[o + 1]!]! +
        '-' +
        HEX[p[o + 2]!]! +
        HEX[p[o + 3]!]! +
        HEX[p[o + 4]!]! +
        HEX[p[o + 5]!]! +
        HEX[p[o + 6]!]! +
        HEX[p[o + 7]!]!
      );
    },
  };
}

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The decision time (Unix ms) a v7 decision id carries; undefined for any other id. */
export function decisionTimeOf(id: string): number | undefined {
  return V7.test(id) ? parseInt(id.slice(0, 8) + id.slice(9, 13), 16) : undefined;
}
