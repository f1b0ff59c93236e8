/**
 * Stream ids and XINFO STREAM, as the replica reads them.
 *
 * A stream id is `<ms>-<seq>`: the time the hub's Redis added the entry and a counter within
 * that millisecond. Ids are compared as pairs of integers (never as strings: "9-0" < "10-0").
 */
import type { Redis } from 'ioredis';

export const ZERO_ID = '0-0';

function parts(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  return dash < 0 ? [BigInt(id), 0n] : [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** -1, 0 or 1 as `a` is before, equal to or after `b` in stream order. */
export function compareIds(a: string, b: string): number {
  const [am, as] = parts(a);
  const [bm, bs] = parts(b);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The time (epoch ms) at which Redis added the entry with this id. */
export function idTime(id: string): number {
  return Number(parts(id)[0]);
}

export function isStreamId(v: unknown): v is string {
  return typeof v === 'string' && /^\d{1,20}-\d{1,20}$/.test(v);
}

/** What the replica needs of XINFO STREAM. */
export interface StreamInfo {
  /** False when the key does not exist yet (no hub wrote to it). */
  exists: boolean;
  length: number;
  lastId: string;
  /** Every entry ever added (trimmed and deleted ones too): with a position's seq, the lag in entries. */
  entriesAdded: number;
  /** Highest id removed by XDEL (Redis 7.0 does not count trimming here; see `trimmedAfter`). */
  maxDeletedId: string;
  /** Id of the oldest entry still held ("0-0" when the stream is empty). */
  firstId: string;
}

const EMPTY: StreamInfo = { exists: false, length: 0, lastId: ZERO_ID, entriesAdded: 0, maxDeletedId: ZERO_ID, firstId: ZERO_ID };

/** XINFO STREAM, parsed (RESP2 and RESP3-legacy both give a flat name/value list). */
export async function streamInfo(redis: Redis, key: string): Promise<StreamInfo> {
  let flat: unknown;
  try {
    flat = await redis.xinfo('STREAM', key);
  } catch (err) {
    if (err instanceof Error && /no such key/i.test(err.message)) return EMPTY;
    throw err;
  }
  if (!Array.isArray(flat)) throw new Error('XINFO STREAM returned an unexpected reply');
  const f = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(String(flat[i]), flat[i + 1]);
  const id = (name: string): string => {
    const v = f.get(name);
    return isStreamId(v) ? v : ZERO_ID;
  };
  const first = f.get('first-entry');
  return {
    exists: true,
    length: Number(f.get('length') ?? 0),
    lastId: id('last-generated-id'),
    entriesAdded: Number(f.get('entries-added') ?? 0),
    maxDeletedId: id('max-deleted-entry-id'),
    firstId: Array.isArray(first) && isStreamId(first[0]) ? first[0] : ZERO_ID,
  };
}

/**
 * Whether entries after a position (`id`, the stream's `seq`-th entry) are gone from the stream,
 * so reading on from it would silently skip them.
 *
 * XDEL shows in `max-deleted-entry-id`. Trimming (MAXLEN) does not, in Redis 7.0: it removes
 * the oldest entries, so when the position is before the first entry still held, every entry
 * added after the position should still be there, and a shortfall is the trimmed part.
 */
export function trimmedAfter(info: StreamInfo, id: string, seq: number): boolean {
  if (compareIds(info.maxDeletedId, id) > 0) return true;
  const addedSince = info.entriesAdded - seq;
  if (addedSince <= 0) return false;
  if (info.length === 0) return true;
  return compareIds(id, info.firstId) < 0 && addedSince > info.length;
}
