/**
 * The binding store on one SQLite connection: one file (`<dataDir>/hes-gate.db`, WAL) holding
 *
 *   bindings       card id → HES code, profile       (the tap path reads it: one prepared get)
 *   statuses       code → status, expiry, fetched-at (StatusPersistence: last-known survives restarts)
 *   findings       code → expired | not-found, when   (the ministry's other answers, for the vehicle
 *                  list; a code has a status or a finding, never both; gone with its last binding)
 *   admin_journal  who changed which binding, masked
 *
 * Everything here is synchronous (better-sqlite3), so a write or a wait for another writer's
 * lock stops the calling thread. The running service therefore never writes from its event
 * loop: `openStationStore` (station-store.ts) runs this store in a worker thread for writes and
 * opens it `readonly` on the main thread for the tap path's reads. Tools (the import command,
 * tests, benchmarks) use it directly.
 *
 * Writes take the lock up front (`BEGIN IMMEDIATE`): a transaction that read first and then
 * tried to write would fail at once with SQLITE_BUSY when another process wrote meanwhile,
 * without waiting. A write that still cannot get the lock within `busyTimeoutMs` fails with
 * HG_STORE, saying so.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HesGateError } from '../errors.js';
import { maskCardId, maskHesCode } from '../privacy/mask.js';
import type { Clock, HealthStatus } from '../types.js';
import type { PersistedFinding, PersistedStatus } from '../status/types.js';
import { checkBinding, DEFAULT_PROFILE, type BindingInput, type CardBinding } from './binding.js';
import { canonicalCardId } from '../credentials/card-id.js';
import { cityTables } from './city-tables.js';
import { vehicleTables, type VehicleTables } from './vehicle-tables.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { bindingError, isLockError, storeError, writeError } from './store-errors.js';
import type { AdminPutResult, BindingChangeList, CardStore, CardStoreOptions, CityTables, Durability, JournalEntry, JournalInput, PutCounts, PutOutcome } from './store-types.js';

export { bindingError, isLockError, writeError } from './store-errors.js';
export type { AdminPutResult, BindingChangeList, CardStore, CardStoreOptions, Durability, JournalEntry, JournalInput, PutCounts, PutOutcome } from './store-types.js';

export const STORE_FILE = 'hes-gate.db';

interface BindingRow {
  hes_code: string;
  profile: string;
  updated_at: number;
}

interface RecordRow {
  card_id: string;
  hes_code: string;
  profile: string;
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

export function openCardStore(options: CardStoreOptions): CardStore {
  const clock = options.clock ?? Date.now;
  const dir = path.resolve(options.dataDir);
  const file = path.join(dir, STORE_FILE);
  const readonly = options.readonly ?? false;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  let db: Database.Database;
  try {
    if (!readonly) fs.mkdirSync(dir, { recursive: true });
    db = new Database(file, { readonly, fileMustExist: readonly });
  } catch (err) {
    throw storeError(`The card store could not be opened in ${dir}.`, err);
  }
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma(`cache_size = ${-Math.round((options.cacheMiB ?? 64) * 1024)}`);
    if (readonly) {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version !== SCHEMA_VERSION) {
        throw storeError(`The card store ${file} has schema version ${version}, expected ${SCHEMA_VERSION}.`, undefined);
      }
    } else {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // A deletion deletes (KVKK): a deleted binding or status is overwritten with zeros, in its
      // page and in pages given back to the free list, rather than left for `strings` to find.
      // The WAL's older page images go with the checkpoint after it (wipeDeleted).
      db.pragma(`secure_delete = ${options.secureDelete === false ? 'OFF' : 'ON'}`);
      // Checkpoint every ~40 MiB of WAL rather than every 4 MiB: an import batch of random keys
      // dirties thousands of pages, and each checkpoint costs two fsyncs. The WAL is cut back after.
      db.pragma('wal_autocheckpoint = 10000');
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      migrate(db);
    }
  } catch (err) {
    db.close();
    if (err instanceof HesGateError) throw err;
    throw isLockError(err)
      ? writeError(err, busyTimeoutMs)
      : storeError(`The card store ${file} could not be prepared (schema version ${SCHEMA_VERSION}).`, err);
  }
  return new SqliteCardStore(db, file, clock, busyTimeoutMs, options.trackBindings === true);
}

class SqliteCardStore implements CardStore {
  readonly file: string;
  readonly city: CityTables;
  readonly vehicles: VehicleTables;
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #busyTimeoutMs: number;
  readonly #get: Database.Statement<[string], BindingRow>;
  readonly #insert: Database.Statement<[string, string, string, number]>;
  readonly #update: Database.Statement<[string, string, number, string]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #count: Database.Statement<[], { n: number }>;
  readonly #countCodes: Database.Statement<[], { n: number }>;
  /** Plucked: the codes themselves, no row object per code (half the time of a rotation step's read). */
  readonly #codesFirst: Database.Statement<[number], string>;
  readonly #codesAfter: Database.Statement<[string, number], string>;
  readonly #bindingsFirst: Database.Statement<[number], RecordRow>;
  readonly #bindingsAfter: Database.Statement<[string, number], RecordRow>;
  readonly #saveStatus: Database.Statement<[string, string, number, number]>;
  readonly #loadStatuses: Database.Statement<[], StatusRow>;
  readonly #deleteStatus: Database.Statement<[string]>;
  readonly #saveFinding: Database.Statement<[string, string, number]>;
  readonly #deleteFinding: Database.Statement<[string]>;
  readonly #pruneFindings: Database.Statement<[number]>;
  readonly #journal: Database.Statement<[number, string, string, string | null, string | null, string | null]>;
  readonly #readJournal: Database.Statement<[number], JournalRow>;
  #dataVersion: number | undefined;
  /** A row was deleted or overwritten since the last WAL truncation. */
  #erased = false;
  /** Binding writes not yet taken (trackBindings), including those of the open transaction. */
  #changes: BindingChangeList | null;

  constructor(db: Database.Database, file: string, clock: Clock, busyTimeoutMs: number, trackBindings: boolean) {
    this.#changes = trackBindings ? [] : null;
    this.#db = db;
    this.file = file;
    this.#clock = clock;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#get = db.prepare<[string], BindingRow>('SELECT hes_code, profile, updated_at FROM bindings WHERE card_id = ?');
    this.#insert = db.prepare<[string, string, string, number], unknown>('INSERT INTO bindings (card_id, hes_code, profile, updated_at) VALUES (?, ?, ?, ?)');
    this.#update = db.prepare<[string, string, number, string], unknown>('UPDATE bindings SET hes_code = ?, profile = ?, updated_at = ? WHERE card_id = ?');
    this.#delete = db.prepare<[string], unknown>('DELETE FROM bindings WHERE card_id = ?');
    this.#count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM bindings');
    this.#countCodes = db.prepare<[], { n: number }>('SELECT count(DISTINCT hes_code) AS n FROM bindings');
    this.#codesFirst = db.prepare<[number], string>('SELECT DISTINCT hes_code FROM bindings ORDER BY hes_code LIMIT ?').pluck();
    this.#codesAfter = db.prepare<[string, number], string>('SELECT DISTINCT hes_code FROM bindings WHERE hes_code > ? ORDER BY hes_code LIMIT ?').pluck();
    this.#bindingsFirst = db.prepare<[number], RecordRow>('SELECT card_id, hes_code, profile FROM bindings ORDER BY card_id LIMIT ?');
    this.#bindingsAfter = db.prepare<[string, number], RecordRow>('SELECT card_id, hes_code, profile FROM bindings WHERE card_id > ? ORDER BY card_id LIMIT ?');
    this.#saveStatus = db.prepare<[string, string, number, number], unknown>(
      `INSERT INTO statuses (code, status, expires_at, fetched_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (code) DO UPDATE SET status = excluded.status, expires_at = excluded.expires_at, fetched_at = excluded.fetched_at`,
    );
    this.#loadStatuses = db.prepare<[], StatusRow>('SELECT code, status, expires_at, fetched_at FROM statuses');
    this.#deleteStatus = db.prepare<[string], unknown>('DELETE FROM statuses WHERE code = ?');
    this.#saveFinding = db.prepare<[string, string, number], unknown>(
      'INSERT INTO findings (code, kind, at) VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, at = excluded.at',
    );
    this.#deleteFinding = db.prepare<[string], unknown>('DELETE FROM findings WHERE code = ?');
    this.#pruneFindings = db.prepare<[number], unknown>('DELETE FROM findings WHERE at < ?');
    this.#journal = db.prepare<[number, string, string, string | null, string | null, string | null], unknown>(
      'INSERT INTO admin_journal (at, who, action, card_id_masked, hes_code_masked, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#readJournal = db.prepare<[number], JournalRow>(
      'SELECT id, at, who, action, card_id_masked, hes_code_masked, detail FROM admin_journal ORDER BY id DESC LIMIT ?',
    );
    this.city = cityTables(db, {
      write: (fn) => this.#write(fn),
      check: checked,
      upsert: (cardId, hesCode, profile, now) => this.#upsert(cardId, hesCode, profile, now),
      remove: (cardId) => this.#remove(cardId),
      now: () => this.#clock(),
    });
    this.vehicles = vehicleTables(db, (fn) => this.#write(fn));
  }

  /**
   * Run `fn` in one `BEGIN IMMEDIATE` transaction (the lock first, so the busy timeout applies),
   * syncing the WAL at the commit when `full`. A failure rolls back and leaves as HG_STORE.
   */
  #write<T>(fn: () => T, durability: Durability = 'normal'): T {
    if (durability === 'full') this.#db.pragma('synchronous = FULL');
    const mark = this.#changes?.length ?? 0;
    try {
      return this.#db.transaction(fn).immediate();
    } catch (err) {
      // Rolled back: its writes never happened.
      if (this.#changes !== null) this.#changes.length = mark;
      throw writeError(err, this.#busyTimeoutMs);
    } finally {
      if (durability === 'full') this.#db.pragma('synchronous = NORMAL');
    }
  }

  getBinding(cardId: string): CardBinding | undefined {
    const canonical = canonicalCardId(cardId);
    if (!canonical.ok) return undefined;
    const id = canonical.id;
    const row = this.#get.get(id);
    return row === undefined ? undefined : { cardId: id, hesCode: row.hes_code, profile: row.profile, updatedAt: row.updated_at };
  }

  putBinding(binding: BindingInput): PutOutcome {
    const b = checked(binding);
    return this.#write(() => this.#upsert(b.cardId, b.hesCode, b.profile, this.#clock()));
  }

  /** Unchanged bindings are not rewritten, so a re-import leaves `updated_at` and the file alone. */
  #upsert(cardId: string, hesCode: string, profile: string, now: number): PutOutcome {
    const existing = this.#get.get(cardId);
    if (existing === undefined) {
      this.#insert.run(cardId, hesCode, profile, now);
      this.#changes?.push(cardId, hesCode, profile);
      return 'created';
    }
    if (existing.hes_code === hesCode && existing.profile === profile) return 'unchanged';
    this.#update.run(hesCode, profile, now, cardId);
    this.#changes?.push(cardId, hesCode, profile);
    // The old code of a rebound card is a deletion too.
    this.#erased = true;
    return 'updated';
  }

  deleteBinding(cardId: string): CardBinding | undefined {
    return this.#write(() => this.#remove(cardId));
  }

  #remove(cardId: string): CardBinding | undefined {
    const existing = this.getBinding(cardId);
    if (existing !== undefined) {
      this.#delete.run(existing.cardId);
      this.#changes?.push(existing.cardId, null, null);
      this.#erased = true;
    }
    return existing;
  }

  adminPut(binding: BindingInput, who: string): AdminPutResult {
    const b = checked(binding);
    return this.#write(() => {
      const outcome = this.#upsert(b.cardId, b.hesCode, b.profile, this.#clock());
      if (outcome !== 'unchanged') {
        this.#append({ who, action: outcome === 'created' ? 'bind' : 'rebind', cardId: b.cardId, hesCode: b.hesCode, detail: { profile: b.profile } });
      }
      const stored = this.getBinding(b.cardId);
      if (stored === undefined) throw storeError('the binding was not found right after it was written', undefined);
      return { outcome, binding: stored };
    }, 'full');
  }

  adminDelete(cardId: string, who: string): CardBinding | undefined {
    return this.#write(() => {
      const removed = this.#remove(cardId);
      if (removed !== undefined) this.#append({ who, action: 'unbind', cardId: removed.cardId, hesCode: removed.hesCode });
      return removed;
    }, 'full');
  }

  putBindings(batch: readonly BindingInput[], durability: Durability = 'normal'): PutCounts {
    return this.#write(() => {
      const counts: PutCounts = { created: 0, updated: 0, unchanged: 0 };
      const now = this.#clock();
      for (const b of batch) counts[this.#upsert(b.cardId, b.hesCode, b.profile ?? DEFAULT_PROFILE, now)]++;
      return counts;
    }, durability);
  }

  countBindings(): number {
    return this.#count.get()?.n ?? 0;
  }

  countCodes(): number {
    return this.#countCodes.get()?.n ?? 0;
  }

  iterateCodes(afterCode: string | undefined, limit: number): string[] {
    return afterCode === undefined ? this.#codesFirst.all(limit) : this.#codesAfter.all(afterCode, limit);
  }

  bindingsAfter(afterCardId: string | undefined, limit: number): BindingInput[] {
    const rows = afterCardId === undefined ? this.#bindingsFirst.all(limit) : this.#bindingsAfter.all(afterCardId, limit);
    return rows.map((r) => ({ cardId: r.card_id, hesCode: r.hes_code, profile: r.profile }));
  }

  /** A status replaces its code's finding (StatusPersistence: the cache wrote the newer answer). */
  saveStatuses(items: readonly PersistedStatus[]): void {
    const replaced = this.#write(() => {
      let n = 0;
      for (const { code, record } of items) {
        this.#saveStatus.run(code, record.status, record.expiresAt, record.fetchedAt);
        n += this.#deleteFinding.run(code).changes;
      }
      return n;
    });
    if (replaced > 0) this.#erased = true;
  }

  /** A finding replaces its code's status. */
  saveFindings(items: readonly PersistedFinding[]): void {
    const replaced = this.#write(() => {
      let n = 0;
      for (const { code, kind, at } of items) {
        this.#saveFinding.run(code, kind, at);
        n += this.#deleteStatus.run(code).changes;
      }
      return n;
    });
    if (replaced > 0) this.#erased = true;
  }

  pruneFindings(before: number): void {
    if (this.#write(() => this.#pruneFindings.run(before).changes) > 0) this.#erased = true;
  }

  /** Read all at once: an open iterator would lock the connection against the tap path's reads. */
  loadStatuses(): PersistedStatus[] {
    return this.#loadStatuses
      .all()
      .map((row) => ({ code: row.code, record: { status: row.status, expiresAt: row.expires_at, fetchedAt: row.fetched_at } }));
  }

  /** Whatever is persisted for the codes goes: status and finding. */
  deleteStatuses(codes: readonly string[]): void {
    this.#write(() => {
      for (const code of codes) {
        this.#deleteStatus.run(code);
        this.#deleteFinding.run(code);
      }
    });
    if (codes.length > 0) this.#erased = true;
  }

  journal(entry: JournalInput, durability: Durability = 'normal'): void {
    this.#write(() => this.#append(entry), durability);
  }

  #append(entry: JournalInput): void {
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

  wipeDeleted(force = false): boolean {
    if (!this.#erased && !force) return true;
    // [busy, WAL frames, frames checkpointed]: busy 1 means a reader still needed old frames.
    const [result] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    const done = result === undefined || result.busy === 0;
    if (done) this.#erased = false;
    return done;
  }

  takeBindingChanges(): BindingChangeList | null {
    if (this.#changes === null || this.#changes.length === 0) return this.#changes === null ? null : [];
    const taken = this.#changes;
    this.#changes = [];
    return taken;
  }

  changedElsewhere(): boolean {
    const v = this.#db.pragma('data_version', { simple: true }) as number;
    const changed = this.#dataVersion !== undefined && v !== this.#dataVersion;
    this.#dataVersion = v;
    return changed;
  }

  close(): void {
    if (!this.#db.open) return;
    if (!this.#db.readonly) {
      try {
        this.wipeDeleted(true);
      } catch {
        // Closing goes on: SQLite checkpoints again when the last connection closes.
      }
    }
    this.#db.close();
  }
}

function checked(binding: BindingInput): Required<BindingInput> {
  const c = checkBinding(binding.cardId, binding.hesCode, binding.profile);
  if (!c.ok) throw bindingError(c.problem);
  return c.binding;
}
