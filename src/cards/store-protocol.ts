/**
 * Messages between the service's main thread and its store worker (station-store.ts ⇄
 * store-worker.ts). Every request carries `at`, the main thread's clock, so times written in
 * the worker follow the service's (injectable) clock. Replies carry the worker's count of
 * bindings, kept without a COUNT(*) on the main thread.
 */
import type { PersistedFinding, PersistedStatus } from '../status/types.js';
import type { BindingInput, CardBinding } from './binding.js';
import type { ImportReport } from './import.js';
import type { StreamFormat, StreamProgress } from './import-stream.js';
import type { AdminPutResult, BindingChangeList, JournalInput, PutCounts } from './store.js';
import type { BindingChanges, CityApplyCounts, CityPosition, SnapshotOutcome } from './store-types.js';
import type { VehicleRecord, VehicleUpload } from './vehicle-tables.js';

export interface WorkerSettings {
  dataDir: string;
  cacheMiB: number;
  busyTimeoutMs: number;
  /** How often the worker looks for changes by other processes (a CLI import), ms. */
  recountIntervalMs: number;
  /** Added to the worker thread's nice value, so that taps win the CPU over imports. */
  niceIncrement: number;
}

/** One queued status write, in order: a save, a finding, a delete, a prune of old findings, or the city position after them. */
export type StatusOp = { save: PersistedStatus[] } | { found: PersistedFinding[] } | { delete: string[] } | { pruneFindings: number } | { position: CityPosition };

export interface Ops {
  adminPut: { args: { binding: BindingInput; who: string }; result: AdminPutResult };
  adminDelete: { args: { cardId: string; who: string }; result: CardBinding | undefined };
  putBindings: { args: { batch: BindingInput[] }; result: PutCounts };
  statuses: { args: { ops: StatusOp[] }; result: void };
  journal: { args: { entry: JournalInput }; result: void };
  count: { args: Record<string, never>; result: number };
  countCodes: { args: Record<string, never>; result: number };
  importBegin: { args: { importId: number; format: StreamFormat; batchSize: number; journalAs: string | undefined }; result: void };
  importChunk: { args: { importId: number; chunk: Uint8Array }; result: StreamProgress };
  importEnd: { args: { importId: number; aborted: boolean }; result: ImportReport };
  cityPosition: { args: Record<string, never>; result: CityPosition | undefined };
  cityNodes: { args: Record<string, never>; result: Array<[string, string]> };
  cityNodesSave: { args: { rows: Array<[string, string]> }; result: void };
  cityApply: { args: { changes: BindingChanges; position: CityPosition }; result: CityApplyCounts };
  citySnapshotBegin: { args: { snapshotId: number }; result: void };
  citySnapshotAdd: { args: { snapshotId: number; batch: BindingInput[] }; result: void };
  /** `position` null: abort (drop what was staged). */
  citySnapshotEnd: { args: { snapshotId: number; position: CityPosition | null }; result: SnapshotOutcome | undefined };
  /** A page of the bindings for the main thread's index; the rows travel as the reply's `bindings`. */
  indexPage: { args: { after: string | undefined; limit: number }; result: { rows: number; last: string | undefined } };
  /** The vehicle registry, unless nothing changed it from another connection since `since` (then `vehicles` is null). */
  vehicles: { args: { since: number | null }; result: { version: number; vehicles: VehicleRecord[] | null } };
  vehicleUpload: { args: { id: string; upload: VehicleUpload }; result: void };
  close: { args: Record<string, never>; result: void };
}

export type OpName = keyof Ops;

export interface Request<K extends OpName = OpName> {
  id: number;
  op: K;
  at: number;
  args: Ops[K]['args'];
}

/** A coded error crossing the thread boundary (HesGateError's code and message). */
export interface WireError {
  code: string;
  message: string;
}

/**
 * What a reply tells the main thread's binding index (binding-index.ts), applied before the reply
 * settles, so whoever awaited a write finds it on the next tap: the bindings the request wrote (or
 * the page it read), and `reload` when the table changed as a whole (a city snapshot swapped in,
 * or another process wrote the file) and the index must be read again.
 */
export interface IndexNews {
  bindings?: BindingChangeList;
  reload?: true;
}

export type WorkerMessage =
  | { type: 'ready'; file: string; count: number }
  | { type: 'failed'; error: WireError }
  | ({ type: 'reply'; id: number; ok: true; value: unknown; count: number } & IndexNews)
  | ({ type: 'reply'; id: number; ok: false; error: WireError; count: number } & IndexNews)
  /** Another process changed the file (the import command): a new count, and the index is read again. */
  | { type: 'count'; count: number };
