/**
 * The card store's interface and the shapes of what it reads and writes (store.ts implements it),
 * including its contract as a replica of a city: the city tier depends on these, never the reverse.
 */
import type { Clock } from '../types.js';
import type { CheckedCodes, SharedAnswer, StatusPersistence } from '../status/types.js';
import type { BindingInput, CardBinding } from './binding.js';
import type { VehicleTables } from './vehicle-tables.js';

/** Binding writes as flat triples: `cardId, hesCode, profile` (a put) or `cardId, null, null` (a deletion). */
export type BindingChangeList = Array<string | null>;

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
  /** Record every binding write for takeBindingChanges (the store worker's connection). @default false */
  trackBindings?: boolean;
  /**
   * Open for reading only (the tap path's connection): no schema changes, no writes; the file
   * must exist at the current schema version. @default false
   */
  readonly?: boolean;
  /**
   * How long a write waits for another connection's lock before failing with HG_STORE, ms.
   * 0 never waits (a WAL reader needs no lock, so the read-only connection uses 0). @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * Overwrite deleted rows with zeros (SQLite `secure_delete`), so a deleted binding or status
   * is not left readable in free pages of the file. Only a benchmark measuring its cost turns it
   * off. @default true
   */
  secureDelete?: boolean;
}

/**
 * How a write reaches the disk. `normal`: committed at once, survives a process kill; a power
 * cut may lose the last commits (the WAL is synced at checkpoints). `full`: the WAL is synced at
 * the commit, so an acknowledged write survives a power cut too (one fsync each).
 */
export type Durability = 'normal' | 'full';

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

/** An admin change and the binding it left (or removed). */
export interface AdminPutResult {
  outcome: PutOutcome;
  binding: CardBinding;
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
  /**
   * An operator's change: upsert one binding and journal it as `who` (when it changed) in one
   * `full` durability transaction, so the acknowledged change survives a power cut.
   */
  adminPut(binding: BindingInput, who: string): AdminPutResult;
  /** An operator's unbind, journaled as `who`, `full` durability. Undefined when not bound. */
  adminDelete(cardId: string, who: string): CardBinding | undefined;
  /** Upsert a batch in one transaction: all of it is written, or none. Inputs must be canonical. */
  putBindings(batch: readonly BindingInput[], durability?: Durability): PutCounts;
  countBindings(): number;
  /** Number of distinct bound HES codes (the size of one refresher rotation). */
  countCodes(): number;
  /** Distinct bound HES codes after `afterCode` in ascending order, at most `limit` (keyset pagination). */
  iterateCodes(afterCode: string | undefined, limit: number): string[];
  /** Bindings after `afterCardId` in card id order, at most `limit` (keyset pagination: the city's digests read the record this way). */
  bindingsAfter(afterCardId: string | undefined, limit: number): BindingInput[];
  /** Append to the admin journal; ids and codes are masked here. */
  journal(entry: JournalInput, durability?: Durability): void;
  /**
   * After a deletion or a rebinding: checkpoint the WAL and truncate it, so the deleted row's
   * earlier page images do not stay in the -wal file. A no-op when nothing was deleted since the
   * last call (unless `force`). Returns false when a reader kept the checkpoint from finishing
   * (the next call tries again).
   */
  wipeDeleted(force?: boolean): boolean;
  /** Whether another connection changed the file since the last call (PRAGMA data_version). */
  changedElsewhere(): boolean;
  /**
   * The binding writes committed since the last call, in order, as flat triples: `cardId, hesCode,
   * profile` for a put, `cardId, null, null` for a deletion (a rolled-back transaction's are
   * dropped). Null unless opened with `trackBindings`. The store worker sends them to the main
   * thread's in-memory index (binding-index.ts).
   */
  takeBindingChanges(): BindingChangeList | null;
  /** The newest journal entries first. */
  readJournal(limit?: number): JournalEntry[];
  /** The store as a replica of its city: the position and the writes that move it (city-tables.ts). */
  readonly city: CityTables;
  /** A hub's vehicle registry (vehicle-tables.ts). */
  readonly vehicles: VehicleTables;
  close(): void;
}

/** A binding as the city shares it (the change stream's `put`, the snapshot hash). */
export interface SharedBinding {
  cardId: string;
  hesCode: string;
  profile: string;
}

/** One bindings batch of the city's change stream. */
export interface BindingChanges {
  put: SharedBinding[];
  /** Card ids unbound. */
  del: string[];
  /** The bound codes' ministry answers, asked in the same write (absent when the ministry did not answer). */
  statuses?: { at: number; answers: Array<[string, SharedAnswer]> };
}

/** Where a node stands in its city's change stream; persisted in the local store with what it applied. */
export interface CityPosition {
  /** The key space (the city key's id) and the epoch it was read in: either changing means a snapshot. */
  kid: string;
  epoch: string;
  /** Id of the last change stream entry applied ("0-0" before the first). */
  changesId: string;
  /** How many change entries the stream had received when this one was added (for lag in entries). */
  changesSeq: number;
}

/** What a city replica needs from the local card store (the station store implements it; the store worker does every write). */
export interface ReplicaStore {
  /** The persisted position, or undefined for a store that never joined a city (or was rekeyed). */
  cityPosition(): Promise<CityPosition | undefined>;
  /** Apply one bindings batch and move the position, in one transaction. */
  applyCityBindings(changes: BindingChanges, position: CityPosition): Promise<PutCounts & { deleted: number }>;
  /** Move the position after entries that wrote no binding (statuses); ordered after earlier status writes. */
  saveCityPosition(position: CityPosition): Promise<void>;
  /**
   * Replace every binding with a snapshot, streamed in batches: bindings absent from the
   * snapshot are removed at `finish`, which also saves the position. Rows are staged off the
   * store file until `finish`, which swaps them in with one transaction (taps see the old set or
   * the new one). The replica applies no bindings entry while a snapshot is open: `finish` would
   * remove a binding the snapshot does not hold.
   */
  beginCitySnapshot(): Promise<CitySnapshotWriter>;
  /** Bound codes in (after, through] in code order, at most `limit` (a status entry's checked range). */
  codesBetween(range: CheckedCodes, limit: number): string[] | Promise<string[]>;
}

export interface CitySnapshotWriter {
  add(batch: readonly BindingInput[]): Promise<void>;
  finish(position: CityPosition): Promise<{ bindings: number; removed: number }>;
  abort(): Promise<void>;
}

/** What a bindings batch did: the put outcomes and how many bindings the dels removed. */
export type CityApplyCounts = PutCounts & { deleted: number };

export interface SnapshotOutcome {
  /** Bindings in the store after the snapshot. */
  bindings: number;
  /** Bindings the snapshot did not hold, removed. */
  removed: number;
}

/** The city replica's tables on one connection (CardStore.city). Synchronous, like the store. */
export interface CityTables {
  /** The persisted position, or undefined for a store that never joined a city. */
  position(): CityPosition | undefined;
  /** One bindings batch and the position in one transaction; a bad row or a bad position writes nothing. */
  applyBindings(changes: BindingChanges, position: CityPosition): CityApplyCounts;
  /** The position alone, in its own transaction. */
  savePosition(position: CityPosition): void;
  /** Start staging a snapshot; a snapshot left staged before is dropped. */
  beginSnapshot(): void;
  /** Stage a batch (canonicalised; a bad row stages none of it). A card seen twice keeps its last row. */
  addSnapshot(batch: readonly BindingInput[]): void;
  /** Swap the staged snapshot in and save the position, in one transaction; the staging is dropped. */
  finishSnapshot(position: CityPosition): SnapshotOutcome;
  /** Drop the staged snapshot: the bindings are as they were before `beginSnapshot`. */
  abortSnapshot(): void;
  /** Distinct bound codes in (after, through] in code order, at most `limit` (null bounds are open). */
  codesBetween(range: CheckedCodes, limit: number): string[];
  /** A hub's record of the node registry: [node id, record text] in id order. */
  nodes(): Array<[string, string]>;
  /** Insert or replace these registry records, in one transaction. */
  saveNodes(rows: ReadonlyArray<readonly [string, string]>): void;
}
