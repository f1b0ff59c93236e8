/**
 * The journal's records between two hand-offs to the worker, kept in preallocated columns.
 *
 *   push(decision) ─> at, elapsed µs ──> Float64Array slots
 *                  ─> decision id ─────> UTF-8 bytes in one Buffer
 *                  ─> gate, reader, kind, verdict, reason, source ─> slots of string arrays
 *   take() ─> PackedEntry[] (the worker's wire format), built at hand-off, cloned and dropped
 *
 * Why columns: an array per decision held until the hand-off (up to flushIntervalMs) outlives
 * a young-generation collection or two, so V8 copies it, then promotes it with its decision
 * id, and the old generation grows with every request served — the slower the request rate
 * (a busy machine), the more each request costs. The columns are allocated once; a decision
 * id (a fresh string per decision) is copied out as bytes, and the entries the worker needs
 * are made at hand-off time, where they die young. The other fields are strings shared
 * between decisions (literals, configured ids); a gate id from a request body is a fresh string
 * when it is long, so the first instance of each is kept and reused (a bounded set).
 */
import type { PackedEntry } from './journal-worker.js';
import type { DecisionRecord } from './journal.js';

/** Distinct gate ids reused; beyond this (unknown gates allowed, and sprayed) each is held as given. */
const MAX_GATE_IDS = 1024;

export class RecordBuffer {
  private readonly gateIds = new Map<string, string>();
  private readonly at: Float64Array;
  private readonly elapsedUs: Float64Array;
  private readonly gate: string[];
  private readonly reader: Array<string | null>;
  private readonly kind: Array<DecisionRecord['kind']>;
  private readonly verdict: Array<DecisionRecord['verdict']>;
  private readonly reason: Array<DecisionRecord['reason']>;
  private readonly source: Array<DecisionRecord['source']>;
  /** End offset of record i's id in `ids`; record i's id starts where record i-1's ends. */
  private readonly idEnd: Uint32Array;
  private ids: Buffer;
  private count = 0;

  constructor(readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.elapsedUs = new Float64Array(capacity);
    this.gate = new Array<string>(capacity).fill('');
    this.reader = new Array<string | null>(capacity).fill(null);
    this.kind = new Array<DecisionRecord['kind']>(capacity).fill('hes');
    this.verdict = new Array<DecisionRecord['verdict']>(capacity).fill('deny');
    this.reason = new Array<DecisionRecord['reason']>(capacity).fill('RISKLESS');
    this.source = new Array<DecisionRecord['source']>(capacity).fill('none');
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
    const need = Buffer.byteLength(e.decisionId);
    if (start + need > this.ids.length) this.grow(start + need);
    this.idEnd[i] = start + this.ids.write(e.decisionId, start, 'utf8');
    this.at[i] = e.at;
    this.elapsedUs[i] = Math.round(e.elapsedMs * 1000);
    this.gate[i] = this.shared(e.gate);
    this.reader[i] = e.reader ?? null;
    this.kind[i] = e.kind;
    this.verdict[i] = e.verdict;
    this.reason[i] = e.reason;
    this.source[i] = e.source;
    this.count = i + 1;
  }

  /** The records held, in the worker's format, oldest first; the buffer is empty after. */
  take(): PackedEntry[] {
    const n = this.count;
    const out = new Array<PackedEntry>(n);
    let start = 0;
    for (let i = 0; i < n; i++) {
      const end = this.idEnd[i]!;
      out[i] = [this.at[i]!, this.gate[i]!, this.reader[i]!, this.kind[i]!, this.verdict[i]!, this.reason[i]!, this.source[i]!, this.elapsedUs[i]!, this.ids.toString('utf8', start, end)];
      start = end;
    }
    this.count = 0;
    return out;
  }

  /** Forgets what is held (the worker failed: the records are counted as dropped). */
  clear(): void {
    this.count = 0;
  }

  private shared(gate: string): string {
    const known = this.gateIds.get(gate);
    if (known !== undefined) return known;
    if (this.gateIds.size < MAX_GATE_IDS) this.gateIds.set(gate, gate);
    return gate;
  }

  private grow(atLeast: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(atLeast, this.ids.length * 2));
    this.ids.copy(bigger, 0, 0, this.count === 0 ? 0 : this.idEnd[this.count - 1]!);
    this.ids = bigger;
  }
}
