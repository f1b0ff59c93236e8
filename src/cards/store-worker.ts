/**
 * The store worker: the one thread of the service that writes the card store.
 *
 *   main thread ── Request {id, op, at, args} ──> handle(op) on the synchronous store ──┐
 *              <── reply {id, ok, value | error, count} ─────────────────────────────────┘
 *
 * Requests are handled one at a time, in order; a write that waits for another process's
 * lock waits here (up to the busy timeout), never on the thread that answers taps. Imports
 * arrive as chunks and are parsed and batched here too. The count of bindings is kept from
 * what each write did, and recounted when another process (a CLI import) changed the file.
 * Each reply carries the bindings its request wrote (committed only), for the main thread's
 * in-memory index; a whole-table change (a city snapshot, another process's writes) asks it to
 * read every binding again, a page per request.
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { HesGateError } from '../errors.js';
import { StreamImport } from './import-stream.js';
import { openCardStore, type CardStore } from './store.js';
import type { IndexNews, Ops, OpName, Request, WireError, WorkerMessage, WorkerSettings } from './store-protocol.js';
import { DEFAULT_PROFILE } from './binding.js';

const port = parentPort;
if (port === null) throw new Error('store-worker.ts runs as a worker thread only');
const settings = workerData as WorkerSettings;

// Background work yields the CPU to the thread that answers taps: on Linux a nice value is per
// thread, and pid 0 means the calling thread. Where that is refused, the default stays.
try {
  os.setPriority(0, Math.min(19, os.getPriority(0) + settings.niceIncrement));
} catch {
  // not permitted here: run at the process's priority
}

function wire(err: unknown): WireError {
  if (err instanceof HesGateError) return { code: err.code, message: err.message };
  return { code: 'HG_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

function post(message: WorkerMessage): void {
  port!.postMessage(message);
}

/** The time of the request in hand: the store's clock inside the worker. */
let now = Date.now();
let store: CardStore;
try {
  store = openCardStore({ dataDir: settings.dataDir, cacheMiB: settings.cacheMiB, busyTimeoutMs: settings.busyTimeoutMs, clock: () => now, trackBindings: true });
} catch (err) {
  post({ type: 'failed', error: wire(err) });
  process.exit(0);
}
let count = store.countBindings();
store.changedElsewhere();
const imports = new Map<number, StreamImport>();
/** The city snapshot being staged (one at a time: a new one replaces one left open). */
let snapshotId: number | undefined;
/** The request in hand replaced the table as a whole, or found another process's writes: the index is read again. */
let reload = false;
/** The connection index pages are read on, while the main thread's index is being read. */
let pageReader: CardStore | undefined;
/** The rows of an index page, sent as the reply's `bindings`. */
let page: Array<string | null> | undefined;
post({ type: 'ready', file: store.file, count });

type Handler<K extends OpName> = (args: Ops[K]['args']) => Ops[K]['result'];
const handlers: { [K in OpName]: Handler<K> } = {
  adminPut: ({ binding, who }) => {
    const r = store.adminPut(binding, who);
    if (r.outcome === 'created') count++;
    return r;
  },
  adminDelete: ({ cardId, who }) => {
    const removed = store.adminDelete(cardId, who);
    if (removed !== undefined) {
      count--;
      // An operator's deletion is gone from every file when it is acknowledged.
      wipe();
    }
    return removed;
  },
  putBindings: ({ batch }) => {
    const counts = store.putBindings(batch);
    count += counts.created;
    return counts;
  },
  statuses: ({ ops }) => {
    // Each op is its own transaction; one that fails does not stop the ones queued after it.
    let failed: unknown;
    for (const op of ops) {
      try {
        if ('save' in op) store.saveStatuses(op.save);
        else if ('found' in op) store.saveFindings(op.found);
        else if ('delete' in op) store.deleteStatuses(op.delete);
        else if ('pruneFindings' in op) store.pruneFindings(op.pruneFindings);
        else store.city.savePosition(op.position);
      } catch (err) {
        failed ??= err;
      }
    }
    if (failed !== undefined) throw failed;
  },
  journal: ({ entry }) => store.journal(entry, 'full'),
  count: () => {
    // Asked for an exact count, the index learns of another process's writes at the same time.
    if (store.changedElsewhere()) reload = true;
    return (count = store.countBindings());
  },
  countCodes: () => store.countCodes(),
  importBegin: ({ importId, format, batchSize, journalAs }) => {
    imports.set(importId, new StreamImport({ store: countingStore(), format, batchSize, journalAs }));
  },
  importChunk: ({ importId, chunk }) => session(importId).push(chunk),
  importEnd: ({ importId, aborted }) => {
    const s = session(importId);
    imports.delete(importId);
    const report = s.end(aborted);
    wipe();
    return report;
  },
  cityPosition: () => store.city.position(),
  cityNodes: () => store.city.nodes(),
  cityNodesSave: ({ rows }) => store.city.saveNodes(rows),
  cityApply: ({ changes, position }) => {
    const counts = store.city.applyBindings(changes, position);
    count += counts.created - counts.deleted;
    return counts;
  },
  citySnapshotBegin: ({ snapshotId: id }) => {
    store.city.beginSnapshot();
    snapshotId = id;
  },
  citySnapshotAdd: ({ snapshotId: id, batch }) => {
    snapshotOf(id);
    store.city.addSnapshot(batch);
  },
  citySnapshotEnd: ({ snapshotId: id, position }) => {
    if (position === null) {
      // Aborting one already replaced or ended is done: nothing of it is staged any more.
      if (snapshotId === id) {
        snapshotId = undefined;
        store.city.abortSnapshot();
      }
      return undefined;
    }
    snapshotOf(id);
    // A failed finish keeps the staging (the caller may retry or abort); a done one drops it.
    const outcome = store.city.finishSnapshot(position);
    wipe(true);
    snapshotId = undefined;
    count = outcome.bindings;
    reload = true;
    return outcome;
  },
  indexPage: ({ after, limit }) => {
    // Read on a connection of its own with a small page cache, open only while the index is read:
    // a pass over every binding would otherwise fill the writing connection's cache (64 MiB) for
    // good. Between two requests nothing is uncommitted, so it reads what the writer wrote.
    pageReader ??= openCardStore({ dataDir: settings.dataDir, readonly: true, busyTimeoutMs: 0, cacheMiB: 2 });
    const rows = pageReader.bindingsAfter(after, limit);
    page = [];
    for (const r of rows) page.push(r.cardId, r.hesCode, r.profile ?? DEFAULT_PROFILE);
    if (rows.length < limit) {
      pageReader.close();
      pageReader = undefined;
    }
    return { rows: rows.length, last: rows.at(-1)?.cardId };
  },
  vehicles: ({ since }) => {
    const version = store.vehicles.dataVersion();
    return { version, vehicles: since === version ? null : store.vehicles.list() };
  },
  vehicleUpload: ({ id, upload }) => store.vehicles.noteUpload(id, upload),
  close: () => {
    clearInterval(recount);
    pageReader?.close();
    store.close();
  },
};

/**
 * Truncate the WAL after deletions (store.wipeDeleted). Imports and status deletions wait for
 * the end of the import or the next recount tick, so a checkpoint is not paid per batch. A
 * failure here is not the write's failure: the next tick tries again.
 */
function wipe(force = false): void {
  try {
    store.wipeDeleted(force);
  } catch {
    // retried at the next recount tick
  }
}

/** The store as an import sees it, counting the bindings each batch creates. */
function countingStore(): Pick<CardStore, 'putBindings' | 'journal'> {
  return {
    putBindings: (batch, durability) => {
      const c = store.putBindings(batch, durability);
      count += c.created;
      return c;
    },
    journal: (entry, durability) => store.journal(entry, durability),
  };
}

function snapshotOf(id: number): void {
  if (snapshotId !== id) throw new HesGateError('HG_STORE', 'this city snapshot is no longer being staged (another one replaced it)');
}

function session(importId: number): StreamImport {
  const s = imports.get(importId);
  if (s === undefined) throw new HesGateError('HG_STORE', 'this import is no longer running');
  return s;
}

/** What the request in hand tells the main thread's index: the bindings it wrote or read, or to read all again. */
function news(): IndexNews {
  const written = store.takeBindingChanges() ?? [];
  const bindings = page === undefined ? written : written.concat(page);
  page = undefined;
  const out: IndexNews = bindings.length > 0 ? { bindings } : {};
  if (reload) out.reload = true;
  reload = false;
  return out;
}

port.on('message', (req: Request) => {
  now = req.at;
  try {
    const value = (handlers[req.op] as Handler<OpName>)(req.args);
    post({ type: 'reply', id: req.id, ok: true, value, count, ...news() });
  } catch (err) {
    // A failed import chunk ends its import: the batches committed before stay (and are told).
    if (req.op === 'importChunk' || req.op === 'importEnd') imports.delete((req.args as { importId: number }).importId);
    post({ type: 'reply', id: req.id, ok: false, error: wire(err), count, ...news() });
  }
  if (req.op === 'close') port.close();
});

// Another process (the import command) may write the same file: recount when it did.
const recount = setInterval(() => {
  wipe();
  try {
    if (store.changedElsewhere()) {
      count = store.countBindings();
      post({ type: 'count', count });
    }
  } catch {
    // A failed look is retried at the next interval.
  }
}, settings.recountIntervalMs);
recount.unref();
