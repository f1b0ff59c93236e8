/**
 * An import fed by byte chunks (the admin API's request body, relayed to the store worker):
 *
 *   chunk ─ utf-8 decode ─ split on '\n' ─> ImportSession.line()   (ndjson, csv)
 *   chunk ─ collect ──────── at the end: JSON.parse ─> .record()   (a JSON array)
 *
 * Runs where the synchronous store runs (the store worker), so neither the parsing nor the
 * batches' writes touch the thread that answers taps. A line longer than MAX_LINE_LENGTH is
 * kept only up to that length (it is rejected as MALFORMED_ROW anyway), so a body without
 * newlines cannot grow a line without bound.
 */
import { HesGateError } from '../errors.js';
import { ImportSession, type ImportCommonOptions, type ImportReport } from './import.js';
import { MAX_LINE_LENGTH, type ImportFormat } from './import-rows.js';

export type StreamFormat = ImportFormat | 'json';

export interface StreamImportOptions extends Pick<ImportCommonOptions, 'store' | 'batchSize' | 'maxRejectionDetails' | 'journalAs'> {
  format: StreamFormat;
}

/** Progress after a chunk: lines read and rows committed so far. */
export interface StreamProgress {
  linesRead: number;
  imported: number;
  rejected: number;
}

export class StreamImport {
  readonly #session: ImportSession;
  readonly #format: StreamFormat;
  readonly #journalAs: string | undefined;
  readonly #decoder = new TextDecoder('utf-8');
  #rest = '';
  #json: string[] = [];

  constructor(options: StreamImportOptions) {
    this.#format = options.format;
    this.#journalAs = options.journalAs;
    this.#session = new ImportSession(options.store, options.format, options);
  }

  /** Feed the next bytes of the body; full batches are committed before this returns. */
  push(chunk: Uint8Array): StreamProgress {
    const text = this.#decoder.decode(chunk, { stream: true });
    if (this.#format === 'json') this.#json.push(text);
    else this.#lines(text, false);
    return this.progress();
  }

  progress(): StreamProgress {
    return { linesRead: this.#session.linesRead, imported: this.#session.imported, rejected: this.#session.rejected };
  }

  /** The body ended (or was cut off: `aborted`, then the batch in hand is dropped). */
  end(aborted: boolean): ImportReport {
    if (!aborted) {
      const tail = this.#decoder.decode();
      if (this.#format === 'json') this.#records(this.#json.join('') + tail);
      else this.#lines(tail, true);
    }
    return this.#session.finish(aborted, this.#journalAs);
  }

  #lines(text: string, last: boolean): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const line = this.#rest + text.slice(start, nl);
      this.#rest = '';
      start = nl + 1;
      if (this.#session.line(line)) this.#session.commit();
    }
    this.#rest += text.slice(start);
    if (this.#rest.length > MAX_LINE_LENGTH + 1) this.#rest = this.#rest.slice(0, MAX_LINE_LENGTH + 1);
    if (last && this.#rest !== '') {
      const line = this.#rest;
      this.#rest = '';
      if (this.#session.line(line)) this.#session.commit();
    }
  }

  #records(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new HesGateError('HG_BAD_REQUEST', 'request body is not valid JSON');
    }
    this.#json = [];
    if (!Array.isArray(value)) {
      throw new HesGateError('HG_BAD_REQUEST', 'expected application/x-ndjson lines, text/csv, or a JSON array of {"cardId", "hesCode", "profile"?} objects');
    }
    for (const record of value) if (this.#session.record(record)) this.#session.commit();
  }
}
