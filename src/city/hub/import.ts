/**
 * A card import on a hub: the rows go to the city's registry, not to the local store (a replica).
 *
 *   body / file chunks ─ slices of ≤ 64 KiB ─> StreamImport (the import's row parser and counts)
 *        full batch (500 rows) ─ captured ─> await registry.putMany ─> counts    ─> next slice
 *
 * It runs on the thread that answers taps (a hub may serve gates too), so the work between two
 * awaits is bounded: one slice is parsed, then each batch it filled is written before the next
 * slice; a slice that filled none yields to the event loop anyway. The next chunk of the body is
 * read only when the previous one is written (backpressure). A JSON array is parsed in one go
 * at its end, so on a hub it is limited to JSON_LIMIT_BYTES (NDJSON and CSV have no such limit).
 * A Redis failure stops the import with HG_CITY_UNAVAILABLE; the batches written before stay,
 * and running it again finishes the job (unchanged rows write nothing).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { HesGateError } from '../../errors.js';
import type { BindingInput } from '../../cards/binding.js';
import type { ImportProgress, ImportReport } from '../../cards/import.js';
import { StreamImport, type StreamFormat } from '../../cards/import-stream.js';
import type { JournalInput, PutCounts } from '../../cards/store-types.js';
import type { Registry } from '../types.js';

/** Rows per registry write: one HMGET, one MULTI and one stream entry each. */
export const HUB_IMPORT_BATCH = 500;
const SLICE_BYTES = 64 * 1024;
/** A JSON array is parsed whole on the main thread: keep that short. */
export const JSON_LIMIT_BYTES = 1024 * 1024;

export interface HubImportOptions {
  registry: Pick<Registry, 'putMany'>;
  format: StreamFormat;
  /** Writes the import's summary row (counts only) to this node's admin journal as this actor. */
  journalAs?: string;
  journal?: (entry: JournalInput) => Promise<void>;
  /** After each written batch and at the end (bytes are those read from the source). */
  onProgress?: (p: ImportProgress) => void;
  /** File size, for progress (0 when unknown). */
  totalBytes?: number;
  /** Stops between slices; written batches stay. */
  signal?: AbortSignal;
}

export async function importToRegistry(source: AsyncIterable<Uint8Array>, o: HubImportOptions): Promise<ImportReport> {
  const captured: Array<readonly BindingInput[]> = [];
  let summary: JournalInput | undefined;
  // The parser commits into this: batches are only captured here and written below, awaited.
  const parser = new StreamImport({
    format: o.format,
    batchSize: HUB_IMPORT_BATCH,
    ...(o.journalAs === undefined ? {} : { journalAs: o.journalAs }),
    store: {
      putBindings: (batch) => {
        captured.push([...batch]);
        return { created: 0, updated: 0, unchanged: 0 };
      },
      journal: (entry) => {
        summary = entry;
      },
    },
  });
  const counts: PutCounts = { created: 0, updated: 0, unchanged: 0 };
  let bytesRead = 0;
  let jsonBytes = 0;
  const progress = (): void => {
    const p = parser.progress();
    o.onProgress?.({ linesRead: p.linesRead, bytesRead, totalBytes: o.totalBytes ?? 0, imported: counts.created + counts.updated + counts.unchanged, rejected: p.rejected });
  };
  const write = async (): Promise<boolean> => {
    const wrote = captured.length > 0;
    while (captured.length > 0) {
      const c = await o.registry.putMany(captured.shift() as Required<BindingInput>[]);
      counts.created += c.created;
      counts.updated += c.updated;
      counts.unchanged += c.unchanged;
      progress();
    }
    return wrote;
  };

  let aborted = false;
  outer: for await (const chunk of source) {
    if (o.format === 'json') {
      jsonBytes += chunk.byteLength;
      if (jsonBytes > JSON_LIMIT_BYTES) {
        throw new HesGateError('HG_BODY_TOO_LARGE', `a JSON array import on a hub is at most ${JSON_LIMIT_BYTES} bytes; send NDJSON or CSV for more`);
      }
    }
    for (let at = 0; at < chunk.byteLength; at += SLICE_BYTES) {
      if (o.signal?.aborted) {
        aborted = true;
        break outer;
      }
      const slice = chunk.subarray(at, Math.min(chunk.byteLength, at + SLICE_BYTES));
      bytesRead += slice.byteLength;
      parser.push(slice);
      if (!(await write())) await yieldToLoop();
    }
  }
  const report = parser.end(aborted);
  if (!aborted) await write();
  // The parser counted nothing itself (its store only captured): the registry's counts are the report's.
  Object.assign(report, counts, { imported: counts.created + counts.updated + counts.unchanged });
  progress();
  if (summary !== undefined && o.journal !== undefined) {
    await o.journal({ ...summary, detail: { ...summary.detail, ...counts, imported: report.imported } });
  }
  return report;
}
