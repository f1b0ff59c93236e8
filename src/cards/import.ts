/**
 * Bulk import of card bindings (the `hes-gate cards import FILE` command and the admin API's
 * bulk endpoint).
 *
 *   file ─ readline ─> line ─ parse/check ─> batch (batchSize rows) ─ one transaction ─> store
 *                                   └─> rejection {line, reason}  (counted; first N kept)
 *
 * A file is streamed, never held in memory. Each batch commits on its own, so an import that
 * dies part-way leaves whole batches behind and a re-run finishes the job: writes are upserts
 * and unchanged bindings are not rewritten. Batches commit with `normal` durability; the last
 * write of an import (its journal row, or its last batch) syncs the WAL, which makes every
 * batch before it durable too: a finished import survives a power cut.
 *
 * This runs on the calling thread with a synchronous store: the service runs it in its store
 * worker (station-store.ts), the command line in its own process.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { HesGateError } from '../errors.js';
import type { BindingInput } from './binding.js';
import {
  MAX_LINE_LENGTH,
  parseCsvHeader,
  parseCsvRow,
  parseNdjsonRow,
  parseRecord,
  REJECT_REASONS,
  type CsvColumns,
  type ImportFormat,
  type RejectReason,
  type RowResult,
} from './import-rows.js';
import type { CardStore, Durability, PutCounts } from './store.js';

export type { ImportFormat, RejectReason } from './import-rows.js';

export interface Rejection {
  /** 1-based line number in the file (the CSV header is line 1); for a JSON array, the element's 1-based position. */
  line: number;
  reason: RejectReason;
}

export interface ImportProgress {
  linesRead: number;
  /** Bytes read from the file so far (0 when not importing from a file). */
  bytesRead: number;
  /** File size (0 when unknown). */
  totalBytes: number;
  /** Valid rows committed so far (created + updated + unchanged). */
  imported: number;
  rejected: number;
}

export interface ImportReport {
  /** `json` for an array of records (admin API). */
  format: ImportFormat | 'json';
  linesRead: number;
  /** Valid rows committed: created + updated + unchanged. */
  imported: number;
  created: number;
  updated: number;
  /** Rows whose binding was already exactly so (nothing written). */
  unchanged: number;
  rejected: number;
  rejectedByReason: Record<RejectReason, number>;
  /** The first `maxRejectionDetails` rejections, in line order. */
  rejections: Rejection[];
  /** True when more rejections happened than are listed. */
  rejectionsTruncated: boolean;
  /** True when the signal stopped the import; the counts cover the batches committed before it. */
  aborted: boolean;
  durationMs: number;
}

export interface ImportCommonOptions {
  store: Pick<CardStore, 'putBindings' | 'journal'>;
  /** Rows per transaction. @default 5000 */
  batchSize?: number;
  /** Rejections listed in the report (all are counted). @default 1000 */
  maxRejectionDetails?: number;
  /** Called after each committed batch and at the end. */
  onProgress?: (p: ImportProgress) => void;
  /** Stops between lines; the batch in progress is dropped, committed batches stay. */
  signal?: AbortSignal;
  /** When set, one summary row (counts only) is written to the admin journal as this actor. */
  journalAs?: string;
}

export interface ImportFileOptions extends ImportCommonOptions {
  file: string;
  /** @default from the file extension: `.csv` → csv, `.ndjson`/`.jsonl` → ndjson */
  format?: ImportFormat;
}

export const DEFAULT_BATCH_SIZE = 5000;
export const DEFAULT_MAX_REJECTION_DETAILS = 1000;

/** The import format a file name implies, or undefined. */
export function formatFromPath(file: string): ImportFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  return undefined;
}

/** Accumulates rows into batches and counts; the transport (file, body, array) feeds it. */
export class ImportSession {
  readonly #store: ImportCommonOptions['store'];
  readonly #batchSize: number;
  readonly #maxDetails: number;
  readonly #format: ImportFormat | 'json';
  readonly #started = performance.now();
  #batch: BindingInput[] = [];
  #columns: CsvColumns | undefined;
  linesRead = 0;
  created = 0;
  updated = 0;
  unchanged = 0;
  rejected = 0;
  readonly byReason = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  readonly rejections: Rejection[] = [];

  constructor(store: ImportCommonOptions['store'], format: ImportFormat | 'json', options: ImportCommonOptions) {
    this.#store = store;
    this.#format = format;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.#maxDetails = options.maxRejectionDetails ?? DEFAULT_MAX_REJECTION_DETAILS;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new TypeError(`batchSize must be a positive integer, got ${String(options.batchSize)}`);
    }
  }

  get imported(): number {
    return this.created + this.updated + this.unchanged;
  }

  /** Feed one line of text; returns true when a batch is full and should be committed. */
  line(text: string): boolean {
    const lineNo = ++this.linesRead;
    if (text.length <= MAX_LINE_LENGTH && text.trim() === '') return false;
    if (this.#format === 'ndjson') return this.#add(lineNo, parseNdjsonRow(text));
    if (this.#columns === undefined) {
      const columns = parseCsvHeader(text);
      if (columns === null) {
        throw new HesGateError(
          'HG_IMPORT_FILE',
          `CSV line ${lineNo} is not a header naming the columns card_id,hes_code[,profile].`,
        );
      }
      this.#columns = columns;
      return false;
    }
    return this.#add(lineNo, parseCsvRow(text, this.#columns));
  }

  /** Feed one already-parsed record (JSON array element). */
  record(value: unknown): boolean {
    return this.#add(++this.linesRead, parseRecord(value));
  }

  #add(lineNo: number, row: RowResult): boolean {
    if (row.ok) {
      this.#batch.push(row.binding);
      return this.#batch.length >= this.#batchSize;
    }
    this.rejected++;
    this.byReason[row.reason]++;
    if (this.rejections.length < this.#maxDetails) this.rejections.push({ line: lineNo, reason: row.reason });
    return false;
  }

  /** Write the batch in hand. A store failure leaves as HG_STORE: the file is not to blame. */
  commit(durability: Durability = 'normal'): void {
    if (this.#batch.length === 0) return;
    let counts: PutCounts;
    try {
      counts = this.#store.putBindings(this.#batch, durability);
    } catch (err) {
      if (err instanceof HesGateError) throw err;
      throw new HesGateError('HG_STORE', 'The card store could not write an import batch.', { cause: err });
    }
    this.#batch = [];
    this.created += counts.created;
    this.updated += counts.updated;
    this.unchanged += counts.unchanged;
  }

  finish(aborted: boolean, journalAs: string | undefined): ImportReport {
    if (!aborted) this.commit(journalAs === undefined ? 'full' : 'normal');
    const report: ImportReport = {
      format: this.#format,
      linesRead: this.linesRead,
      imported: this.imported,
      created: this.created,
      updated: this.updated,
      unchanged: this.unchanged,
      rejected: this.rejected,
      rejectedByReason: { ...this.byReason },
      rejections: this.rejections,
      rejectionsTruncated: this.rejected > this.rejections.length,
      aborted,
      durationMs: Math.round(performance.now() - this.#started),
    };
    if (journalAs !== undefined) {
      this.#store.journal({
        who: journalAs,
        action: 'import',
        detail: {
          format: report.format,
          imported: report.imported,
          created: report.created,
          updated: report.updated,
          unchanged: report.unchanged,
          rejected: report.rejected,
          aborted,
        },
      }, 'full');
    }
    return report;
  }
}

/**
 * Import a CSV or NDJSON file of bindings. Rejects with HG_IMPORT_FILE when the file cannot be
 * read, its format is unknown, or a CSV file has no header; bad rows are reported, not thrown.
 */
export async function importCards(options: ImportFileOptions): Promise<ImportReport> {
  const format = options.format ?? formatFromPath(options.file);
  if (format === undefined) {
    throw new HesGateError('HG_IMPORT_FILE', 'The import format is unknown: name the file .csv, .ndjson or .jsonl, or pass the format.');
  }
  let totalBytes: number;
  try {
    totalBytes = (await fs.promises.stat(options.file)).size;
  } catch (err) {
    throw new HesGateError('HG_IMPORT_FILE', `The import file ${options.file} could not be read.`, { cause: err });
  }
  const session = new ImportSession(options.store, format, options);
  const stream = fs.createReadStream(options.file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  const progress = (): void =>
    options.onProgress?.({
      linesRead: session.linesRead,
      bytesRead: stream.bytesRead,
      totalBytes,
      imported: session.imported,
      rejected: session.rejected,
    });
  let aborted = false;
  try {
    for await (const text of rl) {
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      if (session.line(text)) {
        session.commit();
        progress();
      }
    }
  } catch (err) {
    if (err instanceof HesGateError) throw err;
    throw new HesGateError('HG_IMPORT_FILE', `The import file ${options.file} could not be read to the end.`, { cause: err });
  } finally {
    rl.close();
    stream.destroy();
  }
  const report = session.finish(aborted, options.journalAs);
  progress();
  return report;
}

export interface ImportLinesOptions extends ImportCommonOptions {
  lines: Iterable<string> | AsyncIterable<string>;
  format: ImportFormat;
}

/** Import from lines already in hand (the admin API's NDJSON body). Line numbers start at 1. */
export async function importCardLines(options: ImportLinesOptions): Promise<ImportReport> {
  const session = new ImportSession(options.store, options.format, options);
  let aborted = false;
  for await (const text of options.lines) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    if (session.line(text)) {
      session.commit();
      options.onProgress?.({ linesRead: session.linesRead, bytesRead: 0, totalBytes: 0, imported: session.imported, rejected: session.rejected });
    }
  }
  return session.finish(aborted, options.journalAs);
}

export interface ImportRecordsOptions extends ImportCommonOptions {
  /** `{cardId, hesCode, profile?}` objects (a JSON array body); positions are reported 1-based. */
  records: readonly unknown[];
}

/** Import from parsed records (the admin API's JSON array body). Synchronous: the records are in memory already. */
export function importCardRecords(options: ImportRecordsOptions): ImportReport {
  const session = new ImportSession(options.store, 'json', options);
  let aborted = false;
  for (const value of options.records) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    if (session.record(value)) session.commit();
  }
  return session.finish(aborted, options.journalAs);
}
