/**
 * The decision journal on the main thread: a decision costs a few writes into preallocated
 * columns (record-buffer.ts). Batches go to the journal worker (journal-worker.ts) every
 * `flushIntervalMs` or `batchSize` records, whichever comes first; the worker commits each batch in one transaction. A crash loses at most what
 * was not yet committed: the records of the last flush interval.
 *
 * If the worker falls behind, records beyond `maxPending` are dropped and counted — the tap
 * never waits for the journal, and memory stays bounded.
 *
 * Retention is scheduled here, on the injected clock and timers: every `pruneIntervalMs` the
 * worker is told to prune as of `clock()` (it has no clock of its own).
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { HesGateError } from '../errors.js';
import { systemTimers } from '../system-timers.js';
import type { Clock, Timers } from '../types.js';
import { workerUrl } from '../worker-url.js';
import type { FromWorker, JournalWorkerData, ToWorker } from './journal-worker.js';
import { RecordBuffer, transferList } from './record-buffer.js';
import type { DecisionRecord, GateSummary, JournalBacklog, JournalPage, JournalQuery, JournalStats } from './types.js';

export interface JournalOptions {
  file: string;
  clock: Clock;
  /** Records older than this go. @default 30 days */
  retentionMs: number;
  /** The journal file's cap; the oldest records go first. @default 512 MiB */
  maxBytes: number;
  /** @default 250 */
  flushIntervalMs?: number;
  /** @default 1000 */
  batchSize?: number;
  /** Records waiting for the worker beyond which new ones are dropped. @default 100000 */
  maxPending?: number;
  /** How often retention and the size cap are applied (also once at start). @default 1 hour */
  pruneIntervalMs?: number;
  /** Schedules the periodic prune. @default unref'd global timers */
  timers?: Timers;
  /** The worker failed (disk full, file unusable): decisions go on, unrecorded. */
  onError?: (err: Error) => void;
  /** A batch was committed (tests and the crash test wait on it). */
  onFlushed?: (committed: number) => void;
}

export type { DecisionRecord } from './types.js';

export class Journal {
  private readonly worker: Worker;
  private readonly buffer: RecordBuffer;
  private seq = 0;
  private pending = 0;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly timer: NodeJS.Timeout;
  private readonly timers: Timers;
  private readonly pruneIntervalMs: number;
  private pruneTimer: unknown;
  private readonly batchSize: number;
  private readonly maxPending: number;
  private failed: Error | null = null;
  private drained: Array<() => void> = [];
  private closed = false;
  /** Records committed by the worker since start. */
  committed = 0;
  /** Records dropped because the worker fell behind or failed. */
  dropped = 0;
  readonly ready: Promise<void>;

  constructor(private readonly options: JournalOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.buffer = new RecordBuffer(this.batchSize);
    this.maxPending = options.maxPending ?? 100_000;
    const data: JournalWorkerData = {
      journalWorker: true,
      file: options.file,
      retentionMs: options.retentionMs,
      maxBytes: options.maxBytes,
      startedAt: options.clock(),
    };
    this.timers = options.timers ?? systemTimers;
    this.pruneIntervalMs = options.pruneIntervalMs ?? 3_600_000;
    this.worker = new Worker(workerUrl('journal-worker', import.meta.url), { workerData: data, name: 'hes-gate journal' });
    let ready!: () => void;
    let notReady!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => ((ready = res), (notReady = rej)));
    this.worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          ready();
          break;
        case 'flushed':
          this.pending -= m.count;
          this.committed += m.count;
          options.onFlushed?.(this.committed);
          if (this.pending === 0) for (const resolve of this.drained.splice(0)) resolve();
          break;
        case 'result':
          this.settle(m.id, m.value);
          break;
        case 'failed': {
          const err = new HesGateError('HG_JOURNAL', `decision journal: ${m.message} (${m.code})`);
          if (m.id !== null) this.settle(m.id, undefined, err);
          else this.fail(err, notReady);
          break;
        }
      }
    });
    this.worker.on('error', (err) => this.fail(new HesGateError('HG_JOURNAL', `decision journal worker: ${err.message}`), notReady));
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 250);
    this.timer.unref();
    this.schedulePrune();
  }

  /** The periodic prune: "now" is the main thread's clock; a failure is reported as the worker's (onError). */
  private schedulePrune(): void {
    this.pruneTimer = this.timers.setTimeout(() => {
      if (this.closed || this.failed !== null) return;
      this.post({ type: 'prune', id: null, now: this.options.clock() });
      this.schedulePrune();
    }, this.pruneIntervalMs);
  }

  /** Why the journal stopped recording (its file could not be opened or a write failed); null while it records. */
  get failure(): Error | null {
    return this.failed;
  }

  /** Records one decision: a few writes into preallocated columns on the tap's thread (record-buffer.ts). */
  record(e: DecisionRecord): void {
    if (this.closed) return;
    if (this.failed !== null || this.pending + this.buffer.length >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.buffer.push(e);
    if (this.buffer.full) this.flush();
  }

  /** Hands the buffered records to the worker and resolves once all of them are committed. */
  drain(): Promise<void> {
    this.flush();
    if (this.pending === 0 || this.failed !== null) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Hands the buffered records to the worker. */
  flush(): void {
    if (this.buffer.length === 0 || this.failed !== null) return;
    const batch = this.buffer.take();
    this.pending += batch.count;
    this.worker.postMessage({ type: 'append', seq: ++this.seq, batch } satisfies ToWorker, transferList(batch));
  }

  query(query: JournalQuery): Promise<JournalPage> {
    return this.call<JournalPage>((id) => ({ type: 'query', id, query }));
  }

  /** How many records were committed after a position (a `last` of query()), and the newest position. */
  backlog(after: number): Promise<JournalBacklog> {
    return this.call<JournalBacklog>((id) => ({ type: 'backlog', id, after }));
  }

  summary(from: number, to: number): Promise<GateSummary[]> {
    return this.call<GateSummary[]>((id) => ({ type: 'summary', id, from, to }));
  }

  history(from: number, to: number, bucketMs: number): Promise<Array<{ gate: string; bucket: number; pass: number; deny: number }>> {
    return this.call((id) => ({ type: 'history', id, from, to, bucketMs }));
  }

  async stats(): Promise<JournalStats> {
    const s = await this.call<JournalStats>((id) => ({ type: 'stats', id }));
    return { ...s, dropped: this.dropped };
  }

  /** Applies retention and the size cap now (the worker also does so every pruneIntervalMs). */
  prune(): Promise<number> {
    return this.call<number>((id) => ({ type: 'prune', id, now: this.options.clock() }));
  }

  /** Commits what is buffered, then stops the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    this.timers.clearTimeout(this.pruneTimer);
    this.flush();
    this.closed = true;
    if (this.failed === null) {
      try {
        await this.call((id) => ({ type: 'close', id }), true);
      } catch {
        // Already reported through onError.
      }
    }
    await this.worker.terminate();
  }

  private call<T>(make: (id: number) => ToWorker, closing = false): Promise<T> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.closed && !closing) return Promise.reject(new HesGateError('HG_JOURNAL', 'decision journal is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post(make(id));
    });
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private settle(id: number, value: unknown, err?: Error): void {
    const c = this.calls.get(id);
    if (c === undefined) return;
    this.calls.delete(id);
    if (err !== undefined) c.reject(err);
    else c.resolve(value);
  }

  private fail(err: Error, notReady: (e: Error) => void): void {
    if (this.failed !== null) return;
    this.failed = err;
    this.dropped += this.buffer.length + this.pending;
    this.buffer.clear();
    notReady(err);
    for (const resolve of this.drained.splice(0)) resolve();
    for (const [id, c] of this.calls) {
      this.calls.delete(id);
      c.reject(err);
    }
    this.options.onError?.(err);
  }
}

/** The station's decision journal as the configuration sets it, once it opened or failed to; null when disabled. */
export async function openJournal(config: Pick<Config, 'dataDir' | 'journal'>, clock: Clock, onError: (err: Error) => void): Promise<Journal | null> {
  const c = config.journal;
  if (!c.enabled) return null;
  const journal = new Journal({ file: resolve(config.dataDir, 'journal.db'), clock, retentionMs: c.retentionDays * 86_400_000, maxBytes: c.maxBytes, flushIntervalMs: c.flushIntervalMs, onError });
  // A journal that cannot open (corrupt or unreadable journal.db) does not stop the station:
  // decisions go on unrecorded, logged (onError), on /readyz and in hes_gate_journal_up.
  await journal.ready.catch(() => undefined);
  return journal;
}
