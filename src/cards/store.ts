/**
 * The station's binding store: one SQLite file (`<dataDir>/hes-gate.db`, WAL) holding
 *
 *   bindings       card id → HES code, profile       (the tap path reads it: one prepared get)
 *   statuses       code → status, expiry, fetched-at (StatusPersistence: last-known survives restarts)
 *   admin_journal  who changed which binding, masked
 *
 * Everything is synchronous (better-sqlite3): a primary-key get costs microseconds, cheaper
 * than any async hop would. Writes in bulk go through `putBindings`, one transaction a batch.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HesGateError } from '../errors.js';
import { maskCardId, maskHesCode } from '../privacy/mask.js';
import type { Clock, HealthStatus } from '../types.js';
import type { PersistedStatus, StatusPersistence } from '../status/types.js';
import { checkBinding, DEFAULT_PROFILE, type BindingInput, type BindingProblem, type CardBinding } from './binding.js';
import { canonicalCardId } from '../credentials/card-id.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';

export const STORE_FILE = 'hes-gate.db';

export interface CardStoreOptions {
  /** Directory of the database file; created when missing. */
  dataDir: string;
  /** @default Date.now */
  clock?: Clock;
  /**
   * SQLite page cache of this connection, MiB. A million bindings take about 80 MiB on disk;
   * a cache that holds most of it keeps taps off the disk and makes bulk imports several
   * times faster (random inserts into two B-trees). @default 64
   */
  cacheMiB?: number;
}

/** What a write did: `unchanged` writes nothing (re-imports are idempotent). */
export type PutOutcome = 'created' | 'updated' | 'unchanged';

export interface PutCounts {
  created: number;
  updated: number;
  unchanged: number;
}

export interface JournalInput {
  /** Token label of the actor, e.g. `admin`, `cli`. */
  who: string;
  /** e.g. `put`, `delete`, `import`. */
  action: string;
  /** Full ids may be passed: they are masked before they are written. */
  cardId?: string;
  hesCode?: string;
  /** Free-form, machine-readable detail (counts); never identifiers. */
  detail?: Record<string, unknown>;
}

export interface JournalEntry {
  id: number;
  at: number;
  who: string;
  action: string;
  cardIdMasked: string | null;
  hesCodeMasked: string | null;
  detail: Record<string, unknown> | null;
}

export interface CardStore extends StatusPersistence {
  /** Absolute path of the database file. */
  readonly file: string;
  /**
   * The binding of a card (any accepted spelling; canonical ids take the fast path), or
   * undefined when unbound or invalid. One prepared-statement get.
   */
  getBinding(cardId: string): CardBinding | undefined;
  /**
   * Upsert one binding, canonicalising its fields. Throws HG_CARD_ID_INVALID, HG_HES_CODE_INVALID
   * or HG_BAD_REQUEST (profile) for a field that cannot be canonicalised.
   */
  putBinding(binding: BindingInput): PutOutcome;
  /** Returns the binding deleted, or undefined when the card was not bound. */
  deleteBinding(cardId: string): CardBinding | undefined;
  /** Upsert a batch in one transaction: all of it is written, or none. Inputs must be canonical. */
  putBindings(batch: readonly BindingInput[]): PutCounts;
  countBindings(): number;
  /** Number of distinct bound HES codes (the size of one refresher rotation). */
  countCodes(): number;
  /** Distinct bound HES codes after `afterCode` in ascending order, at most `limit` (keyset pagination). */
  iterateCodes(afterCode: string | undefined, limit: number): string[];
  /** Append to the admin journal; ids and codes are masked here. */
  journal(entry: JournalInput): void;
  /** The newest journal entries first. */
  readJournal(limit?: number): JournalEntry[];
  close(): void;
}

interface BindingRow {
  hes_code: string;
  profile: string;
  updated_at: number;
}

interface StatusRow {
  code: string;
  status: HealthStatus;
  expires_at: number;
  fetched_at: number;
}

interface JournalRow {
  id: number;
  at: number;
  who: string;
  action: string;
  card_id_masked: string | null;
  hes_code_masked: string | null;
  detail: string | null;
}

/** The coded error for a binding field that failed `checkBinding`; no value is echoed. */
export function bindingError(problem: BindingProblem): HesGateError {
  switch (problem) {
    case 'CARD_ID_INVALID':
      return new HesGateError('HG_CARD_ID_INVALID', 'The card id must be 4 to 20 bytes of hexadecimal (8 to 40 hex digits; `:`, `-` or spaces between them allowed).');
    case 'HES_CODE_INVALID':
      return new HesGateError('HG_HES_CODE_INVALID', 'The HES code must be 10 letters or digits (dashes and spaces allowed).');
    case 'PROFILE_INVALID':
      return new HesGateError('HG_BAD_REQUEST', 'profile must be a short lower-case word (a letter, then up to 31 letters, digits, `-` or `_`).');
  }
}

function storeError(message: string, cause: unknown): HesGateError {
  return new HesGateError('HG_STORE', message, { cause });
}

export function openCardStore(options: CardStoreOptions): CardStore {
  const clock = options.clock ?? Date.now;
  const dir = path.resolve(options.dataDir);
  const file = path.join(dir, STORE_FILE);
  let db: Database.Database;
  try {
    fs.mkdirSync(dir, { recursive: true });
    db = new Database(file);
  } catch (err) {
    throw storeError(`The card store could not be opened in ${dir}.`, err);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma(`cache_size = ${-Math.round((options.cacheMiB ?? 64) * 1024)}`);
    // Checkpoint every ~40 MiB of WAL rather than every 4 MiB: an import batch of random keys
    // dirties thousands of pages, and each checkpoint costs two fsyncs. The WAL is cut back after.
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof HesGateError) throw err;
    throw storeError(`The card store ${file} could not be prepared (schema version ${SCHEMA_VERSION}).`, err);
  }
  return new SqliteCardStore(db, file, clock);
}

class SqliteCardStore implements CardStore {
  readonly file: string;
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #get: Database.Statement<[string], BindingRow>;
  readonly #insert: Database.Statement<[string, string, string, number]>;
  readonly #update: Database.Statement<[string, string, number, string]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #count: Database.Statement<[], { n: number }>;
  readonly #countCodes: Database.Statement<[], { n: number }>;
  readonly #codesFirst: Database.Statement<[number], { hes_code: string }>;
  readonly #codesAfter: Database.Statement<[string, number], { hes_code: string }>;
  readonly #saveStatus: Database.Statement<[string, string, number, number]>;
  readonly #loadStatuses: Database.Statement<[], StatusRow>;
  readonly #deleteStatus: Database.Statement<[string]>;
  readonly #journal: Database.Statement<[number, string, string, string | null, string | null, string | null]>;
  readonly #readJournal: Database.Statement<[number], JournalRow>;
  readonly #putMany: (batch: readonly BindingInput[]) => PutCounts;
  readonly #saveMany: (items: readonly PersistedStatus[]) => void;
  readonly #deleteMany: (codes: readonly string[]) => void;

  constructor(db: Database.Database, file: string, clock: Clock) {
    this.#db = db;
    this.file = file;
    this.#clock = clock;
    this.#get = db.prepare<[string], BindingRow>('SELECT hes_code, profile, updated_at FROM bindings WHERE card_id = ?');
    this.#insert = db.prepare<[string, string, string, number], unknown>('INSERT INTO bindings (card_id, hes_code, profile, updated_at) VALUES (?, ?, ?, ?)');
    this.#update = db.prepare<[string, string, number, string], unknown>('UPDATE bindings SET hes_code = ?, profile = ?, updated_at = ? WHERE card_id = ?');
    this.#delete = db.prepare<[string], unknown>('DELETE FROM bindings WHERE card_id = ?');
    this.#count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM bindings');
    this.#countCodes = db.prepare<[], { n: number }>('SELECT count(DISTINCT hes_code) AS n FROM bindings');
    this.#codesFirst = db.prepare<[number], { hes_code: string }>('SELECT DISTINCT hes_code FROM bindings ORDER BY hes_code LIMIT ?');
    this.#codesAfter = db.prepare<[string, number], { hes_code: string }>('SELECT DISTINCT hes_code FROM bindings WHERE hes_code > ? ORDER BY hes_code LIMIT ?');
    this.#saveStatus = db.prepare<[string, string, number, number], unknown>(
      `INSERT INTO statuses (code, status, expires_at, fetched_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (code) DO UPDATE SET status = excluded.status, expires_at = excluded.expires_at, fetched_at = excluded.fetched_at`,
    );
    this.#loadStatuses = db.prepare<[], StatusRow>('SELECT code, status, expires_at, fetched_at FROM statuses');
    this.#deleteStatus = db.prepare<[string], unknown>('DELETE FROM statuses WHERE code = ?');
    this.#journal = db.prepare<[number, string, string, string | null, string | null, string | null], unknown>(
      'INSERT INTO admin_journal (at, who, action, card_id_masked, hes_code_masked, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#readJournal = db.prepare<[number], JournalRow>(
      'SELECT id, at, who, action, card_id_masked, hes_code_masked, detail FROM admin_journal ORDER BY id DESC LIMIT ?',
    );
    this.#putMany = db.transaction((batch: readonly BindingInput[]) => {
      const counts: PutCounts = { created: 0, updated: 0, unchanged: 0 };
      const now = this.#clock();
      for (const b of batch) counts[this.#upsert(b.cardId, b.hesCode, b.profile ?? DEFAULT_PROFILE, now)]++;
      return counts;
    });
    this.#saveMany = db.transaction((items: readonly PersistedStatus[]) => {
      for (const { code, record } of items) this.#saveStatus.run(code, record.status, record.expiresAt, record.fetchedAt);
    });
    this.#deleteMany = db.transaction((codes: readonly string[]) => {
      for (const code of codes) this.#deleteStatus.run(code);
    });
  }

  getBinding(cardId: string): CardBinding | undefined {
    const canonical = canonicalCardId(cardId);
    if (!canonical.ok) return undefined;
    const id = canonical.id;
    const row = this.#get.get(id);
    return row === undefined ? undefined : { cardId: id, hesCode: row.hes_code, profile: row.profile, updatedAt: row.updated_at };
  }

  putBinding(binding: BindingInput): PutOutcome {
    const checked = checkBinding(binding.cardId, binding.hesCode, binding.profile);
    if (!checked.ok) throw bindingError(checked.problem);
    const b = checked.binding;
    return this.#upsert(b.cardId, b.hesCode, b.profile, this.#clock());
  }

  /** Unchanged bindings are not rewritten, so a re-import leaves `updated_at` and the file alone. */
  #upsert(cardId: string, hesCode: string, profile: string, now: number): PutOutcome {
    const existing = this.#get.get(cardId);
    if (existing === undefined) {
      this.#insert.run(cardId, hesCode, profile, now);
      return 'created';
    }
    if (existing.hes_code === hesCode && existing.profile === profile) return 'unchanged';
    this.#update.run(hesCode, profile, now, cardId);
    return 'updated';
  }

  deleteBinding(cardId: string): CardBinding | undefined {
    const existing = this.getBinding(cardId);
    if (existing !== undefined) this.#delete.run(existing.cardId);
    return existing;
  }

  putBindings(batch: readonly BindingInput[]): PutCounts {
    return this.#putMany(batch);
  }

  countBindings(): number {
    return this.#count.get()?.n ?? 0;
  }

  countCodes(): number {
    return this.#countCodes.get()?.n ?? 0;
  }

  iterateCodes(afterCode: string | undefined, limit: number): string[] {
    const rows = afterCode === undefined ? this.#codesFirst.all(limit) : this.#codesAfter.all(afterCode, limit);
    return rows.map((r) => r.hes_code);
  }

  saveStatuses(items: readonly PersistedStatus[]): void {
    this.#saveMany(items);
  }

  /** Read all at once: an open iterator would lock the connection against the tap path's reads. */
  loadStatuses(): PersistedStatus[] {
    return this.#loadStatuses
      .all()
      .map((row) => ({ code: row.code, record: { status: row.status, expiresAt: row.expires_at, fetchedAt: row.fetched_at } }));
  }

  deleteStatuses(codes: readonly string[]): void {
    this.#deleteMany(codes);
  }

  journal(entry: JournalInput): void {
    this.#journal.run(
      this.#clock(),
      entry.who,
      entry.action,
      entry.cardId === undefined ? null : maskCardId(entry.cardId),
      entry.hesCode === undefined ? null : maskHesCode(entry.hesCode),
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    );
  }

  readJournal(limit = 100): JournalEntry[] {
    return this.#readJournal.all(limit).map((r) => ({
      id: r.id,
      at: r.at,
      who: r.who,
      action: r.action,
      cardIdMasked: r.card_id_masked,
      hesCodeMasked: r.hes_code_masked,
      detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
    }));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
