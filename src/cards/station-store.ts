/**
 * The card store as the running service uses it: the thread that answers taps never waits on it.
 *
 *   main thread                                   store worker (store-worker.ts)
 *   ───────────                                   ──────────────────────────────
 *   getBinding, iterateCodes,  ── read-only ──┐   adminPut / adminDelete  (full durability)
 *   readJournal, loadStatuses     connection  │   import chunks → parse → batches
 *   (busy timeout 0: a WAL reader             ├── saveStatuses / saveFindings / deleteStatuses (batched)
 *    needs no lock)                           │   count of bindings, recount on outside change
 *                                 hes-gate.db ┘   migrations at open
 *
 * Writes are messages to the worker, which owns the writing connection; status writes are
 * fire-and-forget, queued and sent as one message per turn of the event loop. A write that
 * cannot get the lock (another process holds it past the busy timeout) rejects with HG_STORE.
 *
 * As a city replica (ReplicaStore, city-tables.ts) the city's writes go through the same worker:
 * a bindings batch with its position is one message (and first sends the status writes queued
 * before it, so the position never gets ahead of them); a position alone joins the status queue;
 * a snapshot is staged batch by batch and swapped in at its end. `codesBetween` reads on the
 * read-only connection, like `iterateCodes`.
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { HesGateError, ERRORS, type ErrorCode } from '../errors.js';
import type { Clock } from '../types.js';
import type { PersistedFinding, PersistedStatus, StatusPersistence } from '../status/types.js';
import type { CheckedCodes } from '../status/types.js';
import type { BindingInput, CardBinding } from './binding.js';
import type { ImportReport } from './import.js';
import type { StreamFormat } from './import-stream.js';
import { openCardStore, type AdminPutResult, type CardStore, type JournalEntry, type JournalInput, type PutCounts } from './store.js';
import type { BindingChanges, CityApplyCounts, CityPosition, CitySnapshotWriter, ReplicaStore } from './store-types.js';
import type { IndexNews, Ops, OpName, Request, WireError, WorkerMessage, WorkerSettings } from './store-protocol.js';
import { workerUrl } from '../worker-url.js';
import { StatusWriteQueue } from './status-write-queue.js';
import { BindingIndex, type IndexedBinding } from './binding-index.js';
import type { VehicleRecord, VehicleUpload } from './vehicle-tables.js';

export interface StationStoreOptions {
  /** Directory of the database file; created when missing. */
  dataDir: string;
  /** @default Date.now */
  clock?: Clock;
  /** Page cache of the worker's (writing) connection, MiB. @default 64 */
  cacheMiB?: number;
  /** Page cache of the main thread's read-only connection, MiB. @default 32 */
  readerCacheMiB?: number;
  /** How long a write waits for another process's lock before HG_STORE, ms. @default 5000 */
  busyTimeoutMs?: number;
  /** How often the worker checks for bindings written by another process, ms. @default 2000 */
  recountIntervalMs?: number;
  /**
   * Added to the store worker's nice value (Linux: per thread), so that under CPU contention an
   * import slows down rather than the taps. @default 10
   */
  niceIncrement?: number;
  /** A fire-and-forget write (statuses) failed; nothing else reports it. */
  onWriteError?: (err: HesGateError) => void;
  /** Every binding was read into the tap path's index (at start, and after each whole-table change). */
  onIndexed?: (e: { bindings: number; ms: number; bytes: number }) => void;
  /** Bindings per index page: one worker request, and one turn of the main thread to take in. @default 5000 */
  indexPageSize?: number;
}

export interface StreamImportRequest {
  format: StreamFormat;
  /** Rows per transaction. @default 5000 */
  batchSize?: number;
  /** Journal actor of the import's summary row. */
  journalAs?: string;
}

export interface StationStore extends StatusPersistence, ReplicaStore {
  readonly file: string;
  /** The binding of a card, from the read-only connection: never waits for a lock. */
  getBinding(cardId: string): CardBinding | undefined;
  /**
   * The binding of a canonical card id as a tap needs it: from the in-memory index once it is
   * read (binding-index.ts), from the read-only connection until then.
   */
  tapBinding(cardId: string): IndexedBinding | undefined;
  /** Whether taps read the in-memory index (false while it is being read, at start or again). */
  readonly indexed: boolean;
  /** Settles when taps read the in-memory index. */
  whenIndexed(): Promise<void>;
  iterateCodes(afterCode: string | undefined, limit: number): string[];
  /** From the read-only connection, a page at a time (the city's digests of this record). */
  bindingsAfter(afterCardId: string | undefined, limit: number): BindingInput[];
  readJournal(limit?: number): JournalEntry[];
  /** Read once at start-up, before the service answers taps. */
  loadStatuses(): PersistedStatus[];
  /** Queued; written by the worker in one transaction per turn of the event loop. */
  saveStatuses(items: readonly PersistedStatus[]): void;
  saveFindings(items: readonly PersistedFinding[]): void;
  deleteStatuses(codes: readonly string[]): void;
  pruneFindings(before: number): void;
  /** The number of bindings as the worker last counted it (no query on this thread). */
  readonly bindingCount: number;
  /** An exact count, made by the worker. */
  countBindings(): Promise<number>;
  countCodes(): Promise<number>;
  adminPut(binding: BindingInput, who: string): Promise<AdminPutResult>;
  adminDelete(cardId: string, who: string): Promise<CardBinding | undefined>;
  putBindings(batch: readonly BindingInput[]): Promise<PutCounts>;
  journal(entry: JournalInput): Promise<void>;
  /**
   * Import a byte stream (an HTTP body): each chunk goes to the worker, which parses and writes
   * it; the next chunk is read only when the worker has taken the previous one (backpressure).
   * When the source fails, the import stops (committed batches stay) and the error is rethrown.
   */
  importStream(source: AsyncIterable<Uint8Array>, request: StreamImportRequest): Promise<ImportReport>;
  applyCityBindings(changes: BindingChanges, position: CityPosition): Promise<CityApplyCounts>;
  /** A hub's record of the city's node registry ([node id, record text]), and its writes. */
  cityNodes(): Promise<Array<[string, string]>>;
  saveCityNodes(rows: Array<[string, string]>): Promise<void>;
  /** From the read-only connection: never waits for a lock. */
  codesBetween(range: CheckedCodes, limit: number): string[];
  /**
   * A hub's vehicle registry, read by the worker: `vehicles` is null when no other connection
   * (the `vehicle` command) changed the file since `since`, the `version` a previous call returned.
   */
  vehiclesSince(since: number | null): Promise<{ version: number; vehicles: VehicleRecord[] | null }>;
  /** What a vehicle's upload said (when, its list version and age), written by the worker. */
  noteVehicleUpload(id: string, upload: VehicleUpload): Promise<void>;
  /** Settles when the status writes queued so far are written. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

function fromWire(e: WireError): HesGateError {
  const code = (e.code in ERRORS ? e.code : 'HG_INTERNAL') as ErrorCode;
  return new HesGateError(code, e.message);
}

/** Start the worker (it opens and migrates the file), then open the read-only connection. */
export async function openStationStore(options: StationStoreOptions): Promise<StationStore> {
  const settings: WorkerSettings = {
    dataDir: path.resolve(options.dataDir),
    cacheMiB: options.cacheMiB ?? 64,
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    recountIntervalMs: options.recountIntervalMs ?? 2000,
    niceIncrement: options.niceIncrement ?? 10,
  };
  const worker = new Worker(workerUrl('store-worker', import.meta.url), { workerData: settings, name: 'hes-gate card store' });
  let onMessage: (m: WorkerMessage) => void = () => undefined;
  let onError: (err: Error) => void = () => undefined;
  let onExit: () => void = () => undefined;
  const ready = await new Promise<{ file: string; count: number }>((resolve, reject) => {
    onMessage = (m) => {
      if (m.type === 'ready') resolve(m);
      else if (m.type === 'failed') reject(fromWire(m.error));
    };
    onError = (err) => reject(new HesGateError('HG_STORE', 'The card store worker failed to start.', { cause: err }));
    onExit = () => reject(new HesGateError('HG_STORE', 'The card store worker stopped while opening the store.'));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  }).finally(() => {
    // Only our own listeners: the Worker keeps internal ones that deliver its messages.
    worker.off('message', onMessage).off('error', onError).off('exit', onExit);
  });
  let reader: CardStore;
  try {
    reader = openCardStore({ dataDir: settings.dataDir, readonly: true, busyTimeoutMs: 0, cacheMiB: options.readerCacheMiB ?? 32 });
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return new WorkerBackedStore(worker, reader, ready.file, ready.count, options);
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: HesGateError): void;
}

class WorkerBackedStore implements StationStore {
  readonly file: string;
  readonly #worker: Worker;
  readonly #reader: CardStore;
  readonly #clock: Clock;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #count: number;
  readonly #statuses: StatusWriteQueue;
  #dead: HesGateError | undefined;
  #closing: Promise<void> | undefined;
  /** The index taps read; null while one is being read. */
  #index: BindingIndex | null = null;
  #loading: { index: BindingIndex; began: number } | undefined;
  readonly #indexWaiters: Array<() => void> = [];
  readonly #pageSize: number;
  readonly #onIndexed: StationStoreOptions['onIndexed'];

  constructor(worker: Worker, reader: CardStore, file: string, count: number, options: StationStoreOptions) {
    this.#worker = worker;
    this.#reader = reader;
    this.file = file;
    this.#count = count;
    this.#clock = options.clock ?? Date.now;
    const onWriteError = options.onWriteError;
    // One message per turn of the event loop: a refresher chunk's 500 saves are one message.
    this.#statuses = new StatusWriteQueue(
      (ops) => this.#call('statuses', { ops }),
      (err) => onWriteError?.(err),
    );
    worker.on('message', (m: WorkerMessage) => this.#receive(m));
    worker.on('error', (err) => this.#fail(new HesGateError('HG_STORE', 'The card store worker failed; writes are refused until a restart.', { cause: err })));
    worker.on('exit', () => this.#fail(new HesGateError('HG_STORE', 'The card store worker has stopped; writes are refused.')));
    this.#pageSize = options.indexPageSize ?? 5_000;
    this.#onIndexed = options.onIndexed;
    this.#reindex();
  }

  #receive(m: WorkerMessage): void {
    if (m.type === 'count') {
      this.#count = m.count;
      this.#reindex();
      return;
    }
    if (m.type !== 'reply') return;
    this.#count = m.count;
    // Before the reply settles: whoever awaited a write finds it on the next tap.
    this.#learn(m);
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    this.#pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(fromWire(m.error));
  }

  /** The index takes in what the worker wrote or read, in the worker's order. */
  #learn(news: IndexNews): void {
    const b = news.bindings;
    if (b !== undefined) {
      for (const index of [this.#index, this.#loading?.index]) {
        if (index === null || index === undefined) continue;
        for (let i = 0; i < b.length; i += 3) {
          const hesCode = b[i + 1];
          if (hesCode === null || hesCode === undefined) index.delete(b[i]!);
          else index.set(b[i]!, hesCode, b[i + 2]!);
        }
      }
    }
    if (news.reload === true) this.#reindex();
  }

  /**
   * Read every binding again into a new index, a page per worker request; taps read the file
   * until it is done. Writes reported meanwhile go to the new index too, in order, so it ends
   * as the file is. A reindex started while one runs replaces it.
   */
  #reindex(): void {
    if (this.#closing !== undefined) return;
    this.#index = null;
    const loading = { index: new BindingIndex(this.#count), began: performance.now() };
    this.#loading = loading;
    const pageSize = this.#pageSize;
    const next = (after: string | undefined): void => {
      this.#call('indexPage', { after, limit: pageSize }).then(
        (page) => {
          if (this.#loading !== loading) return;
          if (page.rows === pageSize) return next(page.last);
          this.#loading = undefined;
          this.#index = loading.index;
          this.#onIndexed?.({ bindings: loading.index.size, ms: Math.round(performance.now() - loading.began), bytes: loading.index.bytes });
          for (const resolve of this.#indexWaiters.splice(0)) resolve();
        },
        () => {
          // The worker failed (it rejects every request from now on): taps go on reading the file.
          if (this.#loading === loading) this.#loading = undefined;
        },
      );
    };
    next(undefined);
  }

  #fail(err: HesGateError): void {
    this.#dead ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #call<K extends OpName>(op: K, args: Ops[K]['args'], transfer?: ArrayBuffer[]): Promise<Ops[K]['result']> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    const request: Request<K> = { id, op, at: this.#clock(), args };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage(request, transfer);
    });
  }

  getBinding(cardId: string): CardBinding | undefined {
    try {
      return this.#reader.getBinding(cardId);
    } catch (err) {
      throw new HesGateError('HG_STORE', 'The card store could not be read.', { cause: err });
    }
  }

  tapBinding(cardId: string): IndexedBinding | undefined {
    const index = this.#index;
    if (index !== null) return index.get(cardId);
    const b = this.getBinding(cardId);
    return b === undefined ? undefined : { hesCode: b.hesCode, profile: b.profile };
  }

  get indexed(): boolean {
    return this.#index !== null;
  }

  whenIndexed(): Promise<void> {
    if (this.#index !== null) return Promise.resolve();
    return new Promise((resolve) => this.#indexWaiters.push(resolve));
  }

  iterateCodes(afterCode: string | undefined, limit: number): string[] {
    return this.#reader.iterateCodes(afterCode, limit);
  }

  bindingsAfter(afterCardId: string | undefined, limit: number): BindingInput[] {
    return this.#reader.bindingsAfter(afterCardId, limit);
  }

  readJournal(limit?: number): JournalEntry[] {
    return this.#reader.readJournal(limit);
  }

  loadStatuses(): PersistedStatus[] {
    return [...this.#reader.loadStatuses()];
  }

  saveStatuses(items: readonly PersistedStatus[]): void {
    if (items.length > 0) void this.#statuses.push({ save: [...items] });
  }

  saveFindings(items: readonly PersistedFinding[]): void {
    if (items.length > 0) void this.#statuses.push({ found: [...items] });
  }

  deleteStatuses(codes: readonly string[]): void {
    if (codes.length > 0) void this.#statuses.push({ delete: [...codes] });
  }

  pruneFindings(before: number): void {
    void this.#statuses.push({ pruneFindings: before });
  }

  get bindingCount(): number {
    return this.#count;
  }

  countBindings(): Promise<number> {
    return this.#call('count', {});
  }

  countCodes(): Promise<number> {
    return this.#call('countCodes', {});
  }

  adminPut(binding: BindingInput, who: string): Promise<AdminPutResult> {
    return this.#call('adminPut', { binding: { ...binding }, who });
  }

  adminDelete(cardId: string, who: string): Promise<CardBinding | undefined> {
    return this.#call('adminDelete', { cardId, who });
  }

  putBindings(batch: readonly BindingInput[]): Promise<PutCounts> {
    return this.#call('putBindings', { batch: [...batch] });
  }

  journal(entry: JournalInput): Promise<void> {
    return this.#call('journal', { entry });
  }

  cityPosition(): Promise<CityPosition | undefined> {
    return this.#call('cityPosition', {});
  }

  cityNodes(): Promise<Array<[string, string]>> {
    return this.#call('cityNodes', {});
  }

  saveCityNodes(rows: Array<[string, string]>): Promise<void> {
    return this.#call('cityNodesSave', { rows });
  }

  applyCityBindings(changes: BindingChanges, position: CityPosition): Promise<CityApplyCounts> {
    // The statuses of entries applied before this one go first: the position saved with this
    // batch says they are applied, so they must not still be waiting in the queue.
    this.#statuses.sendNow();
    return this.#call('cityApply', { changes, position });
  }

  /** Rejects when the status batch it was written with failed (a copy is queued: the caller may reuse its object). */
  saveCityPosition(position: CityPosition): Promise<void> {
    return this.#statuses.push({ position: { ...position } });
  }

  async beginCitySnapshot(): Promise<CitySnapshotWriter> {
    const snapshotId = this.#nextId++;
    this.#statuses.sendNow();
    await this.#call('citySnapshotBegin', { snapshotId });
    return {
      add: (batch) => this.#call('citySnapshotAdd', { snapshotId, batch: [...batch] }),
      finish: async (position) => {
        this.#statuses.sendNow();
        const outcome = await this.#call('citySnapshotEnd', { snapshotId, position: { ...position } });
        if (outcome === undefined) throw new HesGateError('HG_STORE', 'the city snapshot ended without an outcome');
        return outcome;
      },
      // What was staged lives only in the worker's connection: if the worker is gone, so is it.
      abort: () => this.#call('citySnapshotEnd', { snapshotId, position: null }).then(
        () => undefined,
        () => undefined,
      ),
    };
  }

  vehiclesSince(since: number | null): Promise<{ version: number; vehicles: VehicleRecord[] | null }> {
    return this.#call('vehicles', { since });
  }

  noteVehicleUpload(id: string, upload: VehicleUpload): Promise<void> {
    return this.#call('vehicleUpload', { id, upload: { ...upload } });
  }

  codesBetween(range: CheckedCodes, limit: number): string[] {
    try {
      return this.#reader.city.codesBetween(range, limit);
    } catch (err) {
      throw new HesGateError('HG_STORE', 'The card store could not be read.', { cause: err });
    }
  }

  async importStream(source: AsyncIterable<Uint8Array>, request: StreamImportRequest): Promise<ImportReport> {
    const importId = this.#nextId++;
    await this.#call('importBegin', { importId, format: request.format, batchSize: request.batchSize ?? 5000, journalAs: request.journalAs });
    try {
      for await (const chunk of source) {
        // A copy the worker owns: the source's buffer may be pooled and reused.
        const copy = new Uint8Array(chunk);
        await this.#call('importChunk', { importId, chunk: copy }, [copy.buffer as ArrayBuffer]);
      }
    } catch (err) {
      // The worker may have dropped the import already (its own failure); ending it is best effort.
      await this.#call('importEnd', { importId, aborted: true }).catch(() => undefined);
      throw err;
    }
    return this.#call('importEnd', { importId, aborted: false });
  }

  async flush(): Promise<void> {
    await this.#statuses.flush();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#loading = undefined;
      await this.flush();
      this.#reader.close();
      if (this.#dead === undefined) {
        const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
        await this.#call('close', {}).catch(() => undefined);
        await exited;
      }
    })();
    return this.#closing;
  }
}
