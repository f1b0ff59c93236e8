/**
 * The journal's records between two hand-offs to the worker, kept in preallocated columns.
 *
 *   push(decision) ─> at, elapsed µs ──────────────> Float64Array slots
 *                  ─> decision id ─────────────────> UTF-8 bytes in one Buffer
 *                  ─> gate, reader, kind, verdict,
 *                     reason, source ──────────────> indices (Uint32Array) into this batch's strings
 *   take() ─> PackedBatch: copies of the used part of each column, and the batch's strings
 *             (posted with its buffers transferred, so the hand-off copies no record one by one)
 *   unpack(batch) ─> rows, in the worker (journal-worker.ts)
 *
 * Why columns: an array per decision held until the hand-off (up to flushIntervalMs) outlives
 * a young-generation collection or two, so V8 copies it, then promotes it with its decision
 * id, and the old generation grows with every request served — the slower the request rate
 * (a busy machine), the more each request costs. The columns are allocated once; a decision
 * id (a fresh string per decision) is copied out as bytes.
 *
 * Why indices and transferred buffers: structured cloning 1,000 arrays of 9 values at each
 * hand-off cost the tap's thread ~0.8 µs per decision (CPU profile of the throughput figure);
 * a batch is now a few typed arrays and a handful of strings. The strings of a batch are the
 * few distinct gate ids, reader ids and reason words its records use; a gate id from a request
 * body is a fresh string each time, and the table keeps its first instance.
 */
import { FIELDS, NO_READER, type PackedBatch } from './journal-worker.js';
import type { DecisionRecord } from './types.js';

export type { PackedBatch } from './journal-worker.js';

/** The buffers a batch's message transfers rather than copies. */
export function transferList(b: PackedBatch): ArrayBuffer[] {
  return [b.at.buffer, b.elapsedUs.buffer, b.fields.buffer, b.ids.buffer, b.idEnd.buffer] as ArrayBuffer[];
}

export class RecordBuffer {
  private readonly at: Float64Array;
  private readonly elapsedUs: Float64Array;
  private readonly fields: Uint32Array;
  /** This batch's strings and their indices. */
  private strings: string[] = [];
  private readonly index = new Map<string, number>();
  /** End offset of record i's id in `ids`; record i's id starts where record i-1's ends. */
  private readonly idEnd: Uint32Array;
  private ids: Buffer;
  private count = 0;

  constructor(readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.elapsedUs = new Float64Array(capacity);
    this.fields = new Uint32Array(capacity * FIELDS);
    this.idEnd = new Uint32Array(capacity);
    // A UUID is 36 bytes; longer ids grow the buffer.
    this.ids = Buffer.allocUnsafe(capacity * 40);
  }

  get length(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /** Keeps one record; the caller hands the buffer off (take) before it is full. */
  push(e: DecisionRecord): void {
    const i = this.count;
    if (i >= this.capacity) throw new RangeError('journal record buffer is full');
    const start = i === 0 ? 0 : this.idEnd[i - 1]!;
    this.idEnd[i] = this.putId(e.decisionId, start);
    this.at[i] = e.at;
    this.elapsedUs[i] = Math.round(e.elapsedMs * 1000);
    const o = i * FIELDS;
    const f = this.fields;
    f[o] = this.indexOf(e.gate);
    f[o + 1] = e.reader === undefined || e.reader === null ? NO_READER : this.indexOf(e.reader);
    f[o + 2] = this.indexOf(e.kind);
    f[o + 3] = this.indexOf(e.verdict);
    f[o + 4] = this.indexOf(e.reason);
    f[o + 5] = this.indexOf(e.source);
    this.count = i + 1;
  }

  /** The records held, as a batch whose buffers are its own (to transfer); the buffer is empty after. */
  take(): PackedBatch {
    const n = this.count;
    const batch: PackedBatch = {
      count: n,
      at: this.at.slice(0, n),
      elapsedUs: this.elapsedUs.slice(0, n),
      fields: this.fields.slice(0, n * FIELDS),
      ids: Uint8Array.prototype.slice.call(this.ids, 0, n === 0 ? 0 : this.idEnd[n - 1]!),
      idEnd: this.idEnd.slice(0, n),
      strings: this.strings,
    };
    this.clear();
    return batch;
  }

  /** Forgets what is held (the worker failed: the records are counted as dropped). */
  clear(): void {
    this.count = 0;
    this.strings = [];
    this.index.clear();
  }

  /**
   * Copies an id's UTF-8 bytes to `start`, returns where they end. The service's ids are ASCII:
   * a plain loop copies them without a call into node's encoder (two native calls per decision).
   */
  private putId(id: string, start: number): number {
    const n = id.length;
    // A UTF-16 unit is at most 3 bytes of UTF-8.
    if (start + 3 * n > this.ids.length) this.grow(start + 3 * n);
    const ids = this.ids;
    for (let k = 0; k < n; k++) {
      const c = id.charCodeAt(k);
      if (c > 0x7f) return start + ids.write(id, start, 'utf8');
      ids[start + k] = c;
    }
    return start + n;
  }

  private indexOf(s: string): number {
    const known = this.index.get(s);
    if (known !== undefined) return known;
    const i = this.strings.length;
    this.strings.push(s);
    this.index.set(s, i);
    return i;
  }

  private grow(atLeast: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(atLeast, this.ids.length * 2));
    this.ids.copy(bigger, 0, 0, this.count === 0 ? 0 : this.idEnd[this.count - 1]!);
    this.ids = bigger;
  }
}
