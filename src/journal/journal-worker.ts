/**
 * The journal's writer: a worker thread that owns the journal's SQLite connection, so no
 * insert, prune or query ever runs on the thread that answers taps.
 *
 *   main thread ── append(batch) ──> worker: one transaction per batch ──> 'flushed' (seq)
 *               ── query / summary ─> worker: read ──> rows
 *               ── prune(now) ──────> worker: rows older than the retention go, then the oldest
 *                                     rows until the file fits the size cap
 *
 * The worker has no clock of its own: "now" comes from the main thread's clock, at start
 * (`startedAt`) and with every prune the main thread schedules (journal.ts), so retention runs
 * on the service's clock and tests drive it without waiting.
 *
 * Self-contained (only type imports), so it runs as compiled JavaScript and, in tests, as
 * TypeScript with Node's type stripping.
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { GateSummary, JournalBacklog, JournalEntry, JournalPage, JournalQuery, JournalStats } from './types.js';

export interface JournalWorkerData {
  journalWorker: true;
  file: string;
  retentionMs: number;
  maxBytes: number;
  /** The main thread's clock when it started the worker: the start-up prune's "now". */
  startedAt: number;
}

/** One record on the wire: [at, gate, reader, kind, verdict, reason, source, elapsedUs, decisionId]. */
export type PackedEntry = [number, string, string | null, string, string, string, string, number, string];

/** Fields per record in `PackedBatch.fields`: gate, reader, kind, verdict, reason, source. */
export const FIELDS = 6;
/** A reader index meaning "no reader". */
export const NO_READER = 0xffffffff;

/** One hand-off to the worker: the records' columns (each buffer its own, to transfer) and strings. */
export interface PackedBatch {
  count: number;
  at: Float64Array;
  elapsedUs: Float64Array;
  /** FIELDS indices into `strings` per record (reader NO_READER when none). */
  fields: Uint32Array;
  /** The decision ids' UTF-8 bytes, back to back; record i's ends at idEnd[i]. */
  ids: Uint8Array;
  idEnd: Uint32Array;
  strings: string[];
}

/** The batch's records in the worker's row format, oldest first. */
export function unpack(b: PackedBatch): PackedEntry[] {
  const out = new Array<PackedEntry>(b.count);
  const ids = Buffer.from(b.ids.buffer, b.ids.byteOffset, b.ids.byteLength);
  const s = b.strings;
  const f = b.fields;
  let start = 0;
  for (let i = 0; i < b.count; i++) {
    const o = i * FIELDS;
    const end = b.idEnd[i]!;
    const reader = f[o + 1]!;
    out[i] = [b.at[i]!, s[f[o]!]!, reader === NO_READER ? null : s[reader]!, s[f[o + 2]!]!, s[f[o + 3]!]!, s[f[o + 4]!]!, s[f[o + 5]!]!, b.elapsedUs[i]!, ids.toString('utf8', start, end)];
    start = end;
  }
  return out;
}

export type ToWorker =
  | { type: 'append'; seq: number; batch: PackedBatch }
  | { type: 'query'; id: number; query: JournalQuery }
  | { type: 'summary'; id: number; from: number; to: number }
  | { type: 'history'; id: number; from: number; to: number; bucketMs: number }
  | { type: 'stats'; id: number }
  | { type: 'backlog'; id: number; after: number }
  /** `id` null: the periodic prune, whose failure is the journal's failure (nobody awaits it). */
  | { type: 'prune'; id: number | null; now: number }
  | { type: 'close'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'flushed'; seq: number; count: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'failed'; id: number | null; code: string; message: string };

/** Rows per multi-row INSERT (9 parameters each, far below SQLite's limit of 32,766). */
const MULTI_ROWS = 100;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  gate TEXT NOT NULL,
  reader TEXT,
  kind TEXT NOT NULL,
  verdict TEXT NOT NULL,
  reason TEXT NOT NULL,
  source TEXT NOT NULL,
  elapsed_us INTEGER NOT NULL,
  decision_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions (at);
`;

interface Row {
  id: number;
  at: number;
  gate: string;
  reader: string | null;
  kind: JournalEntry['kind'];
  verdict: JournalEntry['verdict'];
  reason: JournalEntry['reason'];
  source: JournalEntry['source'];
  elapsed_us: number;
  decision_id: string;
}

function toEntry(r: Row): JournalEntry {
  return { at: r.at, gate: r.gate, reader: r.reader, kind: r.kind, verdict: r.verdict, reason: r.reason, source: r.source, elapsedMs: r.elapsed_us / 1000, decisionId: r.decision_id };
}

export function openJournalDb(file: string): Database.Database {
  const db = new Database(file);
  // Incremental vacuum must be chosen before the first table exists: it lets the size cap give
  // pages back to the file system after pruning.
  db.pragma('auto_vacuum = INCREMENTAL');
  // Rows past the retention are deleted, not left in free pages: zeros over them (and the WAL
  // truncated after each prune, below).
  db.pragma('secure_delete = ON');
  db.pragma('journal_mode = WAL');
  // A process crash loses nothing committed; a power cut may lose the last batches (documented).
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  return db;
}

/** Everything the worker does with the database, separate from the message loop for tests. */
export class JournalDb {
  readonly db: Database.Database;
  private readonly insert: Database.Statement;
  /** One statement for MULTI_ROWS rows: a call per 100 decisions instead of per decision (the journal's CPU is the tap path's neighbour). */
  private readonly insertMulti: Database.Statement;
  private readonly appendMany: (entries: PackedEntry[]) => void;
  pruned = 0;

  constructor(file: string, options: { readonly?: boolean } = {}) {
    this.db = options.readonly === true ? new Database(file, { readonly: true, fileMustExist: true }) : openJournalDb(file);
    const insertSql = (rows: number): string =>
      `INSERT INTO decisions (at, gate, reader, kind, verdict, reason, source, elapsed_us, decision_id) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
    this.insert = this.db.readonly ? (undefined as unknown as Database.Statement) : this.db.prepare(insertSql(1));
    this.insertMulti = this.db.readonly ? (undefined as unknown as Database.Statement) : this.db.prepare(insertSql(MULTI_ROWS));
    this.appendMany = this.db.transaction((entries: PackedEntry[]) => {
      let i = 0;
      for (; i + MULTI_ROWS <= entries.length; i += MULTI_ROWS) this.insertMulti.run(entries.slice(i, i + MULTI_ROWS).flat());
      for (; i < entries.length; i++) this.insert.run(entries[i]!);
    });
  }

  append(entries: PackedEntry[]): void {
    this.appendMany(entries);
  }

  query(q: JournalQuery): JournalPage {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.from !== undefined) (where.push('at >= ?'), args.push(q.from));
    if (q.to !== undefined) (where.push('at < ?'), args.push(q.to));
    if (q.gate !== undefined) (where.push('gate = ?'), args.push(q.gate));
    if (q.verdict !== undefined) (where.push('verdict = ?'), args.push(q.verdict));
    if (q.reason !== undefined) (where.push('reason = ?'), args.push(q.reason));
    if (q.after !== undefined) (where.push('id > ?'), args.push(q.after));
    const sql = `SELECT * FROM decisions ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit + 1) as Row[];
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    return { entries: page.map(toEntry), next: more ? page[page.length - 1]!.id : null, last: page.length === 0 ? null : page[page.length - 1]!.id };
  }

  /** Records after a position, and the newest position: the primary key's range, no table walk. */
  backlog(after: number): JournalBacklog {
    const row = this.db.prepare('SELECT (SELECT COUNT(*) FROM decisions WHERE id > ?) AS pending, COALESCE(MAX(id), 0) AS newest FROM decisions').get(after) as JournalBacklog;
    return { pending: row.pending, newest: row.newest };
  }

  summary(from: number, to: number): GateSummary[] {
    const gates = this.db
      .prepare(
        `SELECT gate, COUNT(*) AS decisions, SUM(verdict = 'pass') AS pass, SUM(verdict = 'deny') AS deny, MAX(elapsed_us) AS max_us
         FROM decisions WHERE at >= ? AND at < ? GROUP BY gate ORDER BY gate`,
      )
      .all(from, to) as Array<{ gate: string; decisions: number; pass: number; deny: number; max_us: number }>;
    const reasons = this.db.prepare(`SELECT reason, COUNT(*) AS n FROM decisions WHERE gate = ? AND at >= ? AND at < ? AND verdict = 'deny' GROUP BY reason`);
    const nth = this.db.prepare('SELECT elapsed_us FROM decisions WHERE gate = ? AND at >= ? AND at < ? ORDER BY elapsed_us LIMIT 1 OFFSET ?').pluck();
    const pct = (gate: string, n: number, p: number): number => ((nth.get(gate, from, to, Math.min(n - 1, Math.floor(p * n))) as number) ?? 0) / 1000;
    return gates.map((g) => ({
      gate: g.gate,
      decisions: g.decisions,
      pass: g.pass,
      deny: g.deny,
      reasons: Object.fromEntries((reasons.all(g.gate, from, to) as Array<{ reason: string; n: number }>).map((r) => [r.reason, r.n])),
      p50Ms: pct(g.gate, g.decisions, 0.5),
      p95Ms: pct(g.gate, g.decisions, 0.95),
      p99Ms: pct(g.gate, g.decisions, 0.99),
      maxMs: g.max_us / 1000,
    }));
  }

  /** Pass and deny counts per gate per time bucket: the live page's history. */
  history(from: number, to: number, bucketMs: number): Array<{ gate: string; bucket: number; pass: number; deny: number }> {
    // better-sqlite3 binds numbers as REAL: without the cast the division is fractional and
    // every distinct time is a group of its own.
    return this.db
      .prepare(
        `SELECT gate, CAST((at - ?) / ? AS INTEGER) AS bucket, SUM(verdict = 'pass') AS pass, SUM(verdict = 'deny') AS deny
         FROM decisions WHERE at >= ? AND at < ? GROUP BY gate, bucket ORDER BY gate, bucket`,
      )
      .all(from, bucketMs, from, to) as Array<{ gate: string; bucket: number; pass: number; deny: number }>;
  }

  bytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * size;
  }

  stats(dropped: number): JournalStats {
    const r = this.db.prepare('SELECT COUNT(*) AS n, MIN(at) AS oldest FROM decisions').get() as { n: number; oldest: number | null };
    return { entries: r.n, bytes: this.bytes(), oldestAt: r.oldest, dropped, pruned: this.pruned };
  }

  /** Retention by age, then the size cap: the oldest rows go first, in bounded steps. */
  prune(now: number, retentionMs: number, maxBytes: number): number {
    let removed = this.db.prepare('DELETE FROM decisions WHERE at < ?').run(now - retentionMs).changes;
    for (let i = 0; i < 64 && this.bytes() > maxBytes; i++) {
      const n = this.db.prepare('SELECT COUNT(*) FROM decisions').pluck().get() as number;
      if (n === 0) break;
      // A tenth of the rows (at least 1,000) per step: few steps, no full-table rewrite.
      const step = Math.max(1000, Math.ceil(n / 10));
      removed += this.db.prepare('DELETE FROM decisions WHERE id IN (SELECT id FROM decisions ORDER BY id LIMIT ?)').run(step).changes;
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.pragma('incremental_vacuum');
    }
    if (removed > 0) {
      this.db.pragma('incremental_vacuum');
      // The pruned rows' older page images live in the WAL until it is checkpointed and cut.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    }
    this.pruned += removed;
    return removed;
  }

  close(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}

/**
 * The journal is background work: it yields the CPU to the thread that answers taps. On Linux a
 * nice value is per thread and pid 0 means the calling thread; where that is refused, the
 * process's priority stays. Under contention the tap's thread goes first, and the journal catches
 * up from its buffer (bounded: beyond it records are dropped and counted, never waited for).
 */
function yieldCpu(): void {
  try {
    // +10, as the card store's writer (store-worker.ts).
    os.setPriority(0, Math.min(19, os.getPriority(0) + 10));
  } catch {
    // not permitted here
  }
}

function run(): void {
  const port = parentPort!;
  const data = workerData as JournalWorkerData;
  yieldCpu();
  const send = (m: FromWorker): void => port.postMessage(m);
  let journal: JournalDb;
  try {
    journal = new JournalDb(data.file);
    journal.prune(data.startedAt, data.retentionMs, data.maxBytes);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    send({ type: 'failed', id: null, code: e.code ?? 'ERROR', message: e.message ?? String(err) });
    return;
  }
  send({ type: 'ready' });

  port.on('message', (m: ToWorker) => {
    const id = m.type === 'append' ? null : m.id;
    try {
      switch (m.type) {
        case 'append':
          journal.append(unpack(m.batch));
          send({ type: 'flushed', seq: m.seq, count: m.batch.count });
          break;
        case 'query':
          send({ type: 'result', id: m.id, value: journal.query(m.query) });
          break;
        case 'summary':
          send({ type: 'result', id: m.id, value: journal.summary(m.from, m.to) });
          break;
        case 'history':
          send({ type: 'result', id: m.id, value: journal.history(m.from, m.to, m.bucketMs) });
          break;
        case 'stats':
          send({ type: 'result', id: m.id, value: journal.stats(0) });
          break;
        case 'backlog':
          send({ type: 'result', id: m.id, value: journal.backlog(m.after) });
          break;
        case 'prune': {
          const removed = journal.prune(m.now, data.retentionMs, data.maxBytes);
          if (m.id !== null) send({ type: 'result', id: m.id, value: removed });
          break;
        }
        case 'close':
          journal.close();
          send({ type: 'result', id: m.id, value: null });
          port.close();
          break;
      }
    } catch (err) {
      const e = err as { code?: string; message?: string };
      send({ type: 'failed', id, code: e.code ?? 'ERROR', message: e.message ?? String(err) });
    }
  });
}

if (parentPort !== null && (workerData as { journalWorker?: boolean } | null)?.journalWorker === true) run();
