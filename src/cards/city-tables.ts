/**
 * The card store as a replica of its city (issue 12, docs/city.md): where the store stands in
 * the city's change stream, and the writes that move it.
 *
 *   applyBindings(changes, position)   one transaction: upsert the puts, delete the dels, save
 *                                      the position — a crash keeps both or neither
 *   snapshot  begin ─> add(batch)… ─> finish(position) | abort()
 *             add stages rows in a TEMP table of the writing connection (its own temp file,
 *             not the store's lock, gone with the connection after a crash); finish is one
 *             transaction: delete the bindings the snapshot does not hold, upsert the staged
 *             ones, save the position. Taps see the old set or the new one, never a mix, and
 *             abort leaves the store exactly as it was before begin.
 *   codesBetween(range, limit)         bound codes in (after, through], an indexed range read
 *   nodes / saveNodes                  a hub's record of the node registry (city_nodes), which an
 *                                      emptied Redis gets back with the bindings
 *
 * Every write here is `synchronous = NORMAL` (the store's default): a power cut may lose the
 * last commits, bindings and position together, and the replica then reads those entries
 * again from the city's stream — the city can always resend, so an fsync per entry buys nothing.
 */
import type Database from 'better-sqlite3';
import { canonicalCardId } from '../credentials/card-id.js';
import type { BindingInput, CardBinding } from './binding.js';
import { bindingError, storeError } from './store-errors.js';
import type { CheckedCodes } from '../status/types.js';
import type { BindingChanges, CityApplyCounts, CityPosition, CityTables, PutOutcome, SnapshotOutcome } from './store-types.js';

/** What the city tables borrow from the store they extend (store.ts). */
export interface CityTablesDeps {
  /** Run `fn` in one `BEGIN IMMEDIATE` transaction: a throw rolls it back and leaves as HG_STORE (or the coded error). */
  write<T>(fn: () => T): T;
  /** Canonicalise a binding, or throw its coded error. */
  check(binding: BindingInput): Required<BindingInput>;
  upsert(cardId: string, hesCode: string, profile: string, now: number): PutOutcome;
  remove(cardId: string): CardBinding | undefined;
  now(): number;
}

interface PositionRow {
  kid: string;
  epoch: string;
  changes_id: string;
  changes_seq: number;
}

export type Bounds = 'none' | 'after' | 'through' | 'both';

/** The checked-range reads: each walks the hes_code index from its lower bound (tested against the query plan). */
export const CODE_RANGE_SQL: Record<Bounds, string> = {
  none: 'SELECT DISTINCT hes_code FROM bindings ORDER BY hes_code LIMIT @limit',
  after: 'SELECT DISTINCT hes_code FROM bindings WHERE hes_code > @after ORDER BY hes_code LIMIT @limit',
  through: 'SELECT DISTINCT hes_code FROM bindings WHERE hes_code <= @through ORDER BY hes_code LIMIT @limit',
  both: 'SELECT DISTINCT hes_code FROM bindings WHERE hes_code > @after AND hes_code <= @through ORDER BY hes_code LIMIT @limit',
};

export function cityTables(db: Database.Database, deps: CityTablesDeps): CityTables {
  return new SqliteCityTables(db, deps);
}

class SqliteCityTables implements CityTables {
  readonly #db: Database.Database;
  readonly #deps: CityTablesDeps;
  readonly #readPosition: Database.Statement<[], PositionRow>;
  readonly #ranges = new Map<Bounds, Database.Statement<[Record<string, string | number>], { hes_code: string }>>();
  /** Prepared when first needed: the read-only connection never writes. */
  #writePosition: Database.Statement<[PositionRow]> | undefined;
  /** The staging insert of the snapshot in progress (its table is created by beginSnapshot). */
  #stage: Database.Statement<[string, string, string]> | undefined;

  constructor(db: Database.Database, deps: CityTablesDeps) {
    this.#db = db;
    this.#deps = deps;
    this.#readPosition = db.prepare<[], PositionRow>('SELECT kid, epoch, changes_id, changes_seq FROM city_state WHERE id = 1');
  }

  position(): CityPosition | undefined {
    const row = this.#readPosition.get();
    return row === undefined ? undefined : { kid: row.kid, epoch: row.epoch, changesId: row.changes_id, changesSeq: row.changes_seq };
  }

  #save(p: CityPosition): void {
    this.#writePosition ??= this.#db.prepare<[PositionRow], unknown>(
      `INSERT INTO city_state (id, kid, epoch, changes_id, changes_seq) VALUES (1, @kid, @epoch, @changes_id, @changes_seq)
       ON CONFLICT (id) DO UPDATE SET kid = excluded.kid, epoch = excluded.epoch, changes_id = excluded.changes_id, changes_seq = excluded.changes_seq`,
    );
    this.#writePosition.run({ kid: p.kid, epoch: p.epoch, changes_id: p.changesId, changes_seq: p.changesSeq });
  }

  applyBindings(changes: BindingChanges, position: CityPosition): CityApplyCounts {
    const d = this.#deps;
    return d.write(() => {
      const counts: CityApplyCounts = { created: 0, updated: 0, unchanged: 0, deleted: 0 };
      const now = d.now();
      // Puts, then dels, as the entry lists them. Checked inside the transaction: a bad row
      // anywhere rolls back the rows before it and leaves the position where it was.
      for (const put of changes.put) {
        const b = d.check(put);
        counts[d.upsert(b.cardId, b.hesCode, b.profile, now)]++;
      }
      for (const cardId of changes.del) {
        const id = canonicalCardId(cardId);
        if (!id.ok) throw bindingError('CARD_ID_INVALID');
        if (d.remove(id.id) !== undefined) counts.deleted++;
      }
      this.#save(position);
      return counts;
    });
  }

  savePosition(position: CityPosition): void {
    this.#deps.write(() => this.#save(position));
  }

  beginSnapshot(): void {
    this.#stage = undefined;
    this.#db.exec(`
      DROP TABLE IF EXISTS temp.city_snapshot;
      CREATE TEMP TABLE city_snapshot (card_id TEXT PRIMARY KEY, hes_code TEXT NOT NULL, profile TEXT NOT NULL) WITHOUT ROWID;
    `);
    this.#stage = this.#db.prepare<[string, string, string], unknown>('INSERT OR REPLACE INTO temp.city_snapshot (card_id, hes_code, profile) VALUES (?, ?, ?)');
  }

  #staging(): Database.Statement<[string, string, string]> {
    if (this.#stage === undefined) throw storeError('no city snapshot is being staged', undefined);
    return this.#stage;
  }

  addSnapshot(batch: readonly BindingInput[]): void {
    const stage = this.#staging();
    const { check } = this.#deps;
    // A deferred transaction on the TEMP table only: it takes no lock on the store, so a
    // snapshot streams in while another process (an import) writes the file.
    this.#db.transaction(() => {
      for (const row of batch) {
        const b = check(row);
        stage.run(b.cardId, b.hesCode, b.profile);
      }
    })();
  }

  finishSnapshot(position: CityPosition): SnapshotOutcome {
    this.#staging();
    const now = this.#deps.now();
    const outcome = this.#deps.write(() => {
      const removed = this.#db.prepare('DELETE FROM bindings WHERE card_id NOT IN (SELECT card_id FROM temp.city_snapshot)').run().changes;
      // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT, not to a join.
      this.#db
        .prepare(
          `INSERT INTO bindings (card_id, hes_code, profile, updated_at) SELECT card_id, hes_code, profile, ? FROM temp.city_snapshot WHERE true
           ON CONFLICT (card_id) DO UPDATE SET hes_code = excluded.hes_code, profile = excluded.profile, updated_at = excluded.updated_at
           WHERE bindings.hes_code <> excluded.hes_code OR bindings.profile <> excluded.profile`,
        )
        .run(now);
      this.#save(position);
      const bindings = this.#db.prepare<[], { n: number }>('SELECT count(*) AS n FROM bindings').get()?.n ?? 0;
      return { bindings, removed };
    });
    this.abortSnapshot();
    return outcome;
  }

  abortSnapshot(): void {
    this.#stage = undefined;
    this.#db.exec('DROP TABLE IF EXISTS temp.city_snapshot');
  }

  codesBetween(range: CheckedCodes, limit: number): string[] {
    if (!(limit > 0)) return [];
    const bounds: Bounds = range.after === null ? (range.through === null ? 'none' : 'through') : range.through === null ? 'after' : 'both';
    let stmt = this.#ranges.get(bounds);
    if (stmt === undefined) {
      stmt = this.#db.prepare<[Record<string, string | number>], { hes_code: string }>(CODE_RANGE_SQL[bounds]);
      this.#ranges.set(bounds, stmt);
    }
    const params: Record<string, string | number> = { limit: Math.floor(limit) };
    if (range.after !== null) params.after = range.after;
    if (range.through !== null) params.through = range.through;
    return stmt.all(params).map((r) => r.hes_code);
  }

  nodes(): Array<[string, string]> {
    return this.#db.prepare<[], { node_id: string; record: string }>('SELECT node_id, record FROM city_nodes ORDER BY node_id').all().map((r) => [r.node_id, r.record]);
  }

  saveNodes(rows: ReadonlyArray<readonly [string, string]>): void {
    const upsert = this.#db.prepare<[string, string]>('INSERT INTO city_nodes (node_id, record) VALUES (?, ?) ON CONFLICT (node_id) DO UPDATE SET record = excluded.record');
    this.#deps.write(() => {
      for (const [id, record] of rows) upsert.run(id, record);
    });
  }
}
