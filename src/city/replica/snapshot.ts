/**
 * A resync from the snapshot hashes, for a node whose position is missing, from another key
 * space or epoch, or trimmed away from the change stream.
 *
 *   1. XINFO STREAM changes ─> last id + entries-added       recorded FIRST
 *   2. HSCAN bindings  (batches) ─> store snapshot writer     bindings absent from the hash go at finish
 *   3. HSCAN statuses  (batches) ─> status.ingestShared(…, persist)
 *   4. writer.finish(recorded position)                        the position moves only now
 *   5. the reader goes on from the recorded id
 *
 * Hubs change a hash and append the entry in one MULTI, so every change made after step 1 is in
 * the stream after the recorded id: the scan may or may not have seen it, and reading on applies
 * it anyway. The few entries applied twice that way are harmless: bindings are upserts and
 * deletes by card id, statuses are kept only when newer. A crash before step 4 leaves the old
 * position, so the next start snapshots again.
 *
 * Opening a sealed value costs tens of microseconds, so a page of a thousand is too long to run
 * in one go: values are opened in slices of a few milliseconds with a turn of the event loop
 * between them (Slicer), and a million statuses never stall a tap.
 */
import type { Redis } from 'ioredis';
import type { BindingInput } from '../../cards/binding.js';
import type { CityKeyspace } from '../keyspace.js';
import type { CityPosition, ReplicaStatus, ReplicaStore } from '../types.js';
import type { CityWire, SharedStatus } from '../wire.js';
import { Slicer } from './apply.js';
import { streamInfo } from './stream-info.js';

/** Fields asked per HSCAN call. */
const SCAN_COUNT = 1000;

export interface SnapshotSource {
  redis: Redis;
  names: Pick<CityKeyspace, 'changes' | 'bindings' | 'statuses'>;
  wire: CityWire;
  store: ReplicaStore;
  status: ReplicaStatus;
  /** Checked between batches: a stopping replica aborts the snapshot. */
  stopped(): boolean;
}

export interface SnapshotResult {
  position: CityPosition;
  bindings: number;
  removed: number;
  statuses: number;
  malformed: number;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Open every pair of a page with `open`, giving the event loop a turn between slices. */
async function openPage<T>(flat: readonly string[], open: (field: string, value: string) => T | undefined, slicer: Slicer): Promise<{ items: T[]; malformed: number }> {
  const items: T[] = [];
  let malformed = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const item = open(flat[i]!, flat[i + 1]!);
    if (item === undefined) malformed++;
    else items.push(item);
    if ((i & 31) === 30) await slicer.yield();
  }
  return { items, malformed };
}

/**
 * Every field/value pair of a hash, one HSCAN page at a time. The next page is asked for before
 * this one is handed out, so Redis and the network work while the page is opened and applied.
 */
async function* scanHash(redis: Redis, key: string, stopped: () => boolean): AsyncGenerator<string[]> {
  const page = (cursor: string): Promise<[string, string[]]> => {
    const p = redis.hscan(key, cursor, 'COUNT', SCAN_COUNT);
    // Awaited below; a page still in flight when the snapshot stops must not be an unhandled rejection.
    p.catch(() => undefined);
    return p;
  };
  let pending = page('0');
  for (;;) {
    if (stopped()) throw new Error('the replica stopped during a snapshot');
    const [next, flat] = await pending;
    if (next !== '0') pending = page(next);
    yield flat;
    if (next === '0') return;
    await turn();
  }
}

export async function takeSnapshot(src: SnapshotSource, kid: string, epoch: string): Promise<SnapshotResult> {
  const { redis, names, wire } = src;
  const info = await streamInfo(redis, names.changes);
  const position: CityPosition = { kid, epoch, changesId: info.lastId, changesSeq: info.entriesAdded };
  let malformed = 0;
  let statuses = 0;
  const slicer = new Slicer();
  const writer = await src.store.beginCitySnapshot();
  try {
    for await (const flat of scanHash(redis, names.bindings, src.stopped)) {
      const page = await openPage<BindingInput>(flat, (f, v) => wire.binding(f, v), slicer);
      malformed += page.malformed;
      if (page.items.length > 0) await writer.add(page.items);
    }
    for await (const flat of scanHash(redis, names.statuses, src.stopped)) {
      const page = await openPage<SharedStatus>(flat, (f, v) => wire.status(f, v), slicer);
      malformed += page.malformed;
      if (page.items.length > 0) src.status.ingestShared(page.items, true);
      statuses += page.items.length;
      await slicer.yield();
    }
    const done = await writer.finish(position);
    return { position, bindings: done.bindings, removed: done.removed, statuses, malformed };
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}
