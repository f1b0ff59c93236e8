/**
 * `hes-gate journal export --from --to [--gate] [--format ndjson|csv]`: the station's decision
 * records for a time range on stdout, oldest first. Reads the journal file directly and
 * read-only (its own process: a running station is not disturbed). Records carry no code, card
 * id or QR content, so an export may leave the station.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { HesGateError } from '../errors.js';
import { JournalDb } from '../journal/journal-worker.js';
import { parseJournalQuery, presentEntry } from '../http/routes/journal.js';

const CSV_COLUMNS = ['at', 'station', 'gate', 'reader', 'kind', 'verdict', 'reason', 'source', 'elapsedMs', 'decisionId'] as const;

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export interface ExportOptions {
  from: string;
  to: string;
  gate?: string;
  format?: string;
}

export async function journalExport(opts: ExportOptions, out: NodeJS.WritableStream = process.stdout, loaded: LoadedConfig = loadConfig()): Promise<number> {
  const { config } = loaded;
  const format = opts.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') throw new HesGateError('HG_CONFIG_INVALID', '--format must be ndjson or csv');
  const base = parseJournalQuery({ from: opts.from, to: opts.to, ...(opts.gate === undefined ? {} : { gate: opts.gate }), limit: '1000' });
  const file = resolve(config.dataDir, 'journal.db');
  if (!existsSync(file)) throw new HesGateError('HG_JOURNAL', `no decision journal at ${file} (is dataDir right, and journal.enabled true?)`);
  const journal = new JournalDb(file, { readonly: true });
  // A reader that closes the pipe early (`| head`) has what it wanted: stop quietly, exit 0.
  let readerGone = false;
  let failed: Error | undefined;
  const wake = new Set<() => void>();
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') readerGone = true;
    else failed = err;
    for (const w of wake) w();
  };
  out.on('error', onError);
  const write = (line: string): Promise<void> => {
    if (out.write(line)) return Promise.resolve();
    return new Promise((r) => {
      const done = (): void => {
        wake.delete(done);
        out.off('drain', done);
        r();
      };
      wake.add(done);
      out.once('drain', done);
    });
  };
  let n = 0;
  try {
    if (format === 'csv') await write(`${CSV_COLUMNS.join(',')}\n`);
    let after: number | undefined;
    pages: for (;;) {
      const page = journal.query(after === undefined ? base : { ...base, after });
      for (const e of page.entries) {
        if (readerGone || failed !== undefined) break pages;
        const rec = presentEntry(e, config.stationId);
        await write(format === 'csv' ? `${CSV_COLUMNS.map((c) => csvField(rec[c])).join(',')}\n` : `${JSON.stringify(rec)}\n`);
        n++;
      }
      if (page.next === null) break;
      after = page.next;
    }
  } finally {
    journal.db.close();
  }
  if (failed !== undefined) throw failed;
  if (!readerGone) process.stderr.write(`hes-gate: exported ${n} decision records\n`);
  return 0;
}
