import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { HesGateError, isHesGateError } from '../errors.js';
import { openCardStore } from '../cards/store.js';
import { formatFromPath, importCards, type ImportFormat } from '../cards/import.js';
import { renderImportProgress } from '../cards/import-progress.js';

/**
 * `hes-gate cards import FILE`: stream a CSV or NDJSON file of bindings into the store in
 * batches, with a progress bar on a terminal and a report of rejected rows by line number.
 * Exit 0 when every row was imported, 1 when some were rejected (valid rows are kept).
 * Ctrl-C stops between batches; committed batches stay.
 *
 * A running service may share the store: each batch takes the write lock (`BEGIN IMMEDIATE`)
 * for its own short transaction, waiting up to --lock-wait-ms for the service's writes, and the
 * service sees the new bindings at once (its count within seconds). When the lock cannot be had,
 * the command says so (HG_STORE) rather than blaming the file.
 */
export async function cardsImport(file: string, opts: { format?: string; batchSize?: string; json?: boolean; lockWaitMs?: string }): Promise<number> {
  const { config } = loadConfig();
  const format = (opts.format ?? formatFromPath(file)) as ImportFormat | undefined;
  if (format !== 'csv' && format !== 'ndjson') {
    throw new HesGateError('HG_IMPORT_FILE', `cannot tell the format of ${file}: use a .csv, .ndjson or .jsonl file, or --format csv|ndjson`);
  }
  const batchSize = opts.batchSize === undefined ? 5000 : Number(opts.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new HesGateError('HG_CONFIG_INVALID', '--batch-size must be an integer from 1 to 100000');
  }
  const lockWaitMs = opts.lockWaitMs === undefined ? 10_000 : Number(opts.lockWaitMs);
  if (!Number.isInteger(lockWaitMs) || lockWaitMs < 0 || lockWaitMs > 600_000) {
    throw new HesGateError('HG_CONFIG_INVALID', '--lock-wait-ms must be an integer from 0 to 600000');
  }
  const store = openCardStore({ dataDir: resolve(config.dataDir), busyTimeoutMs: lockWaitMs });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  const progress = renderImportProgress();
  try {
    const report = await importCards({
      store,
      file,
      format,
      batchSize,
      onProgress: (p) => progress.onProgress(p),
      signal: controller.signal,
      journalAs: 'cli',
    });
    progress.stop();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const lines = [
        `imported ${report.imported} (created ${report.created}, updated ${report.updated}, unchanged ${report.unchanged}) of ${report.linesRead} lines in ${(report.durationMs / 1000).toFixed(1)} s`,
        `rejected ${report.rejected}${report.rejected > 0 ? `: ${Object.entries(report.rejectedByReason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ')}` : ''}`,
        ...report.rejections.slice(0, 50).map((r) => `  line ${r.line}: ${r.reason}`),
        ...(report.rejections.length > 50 || report.rejectionsTruncated ? [`  … (${report.rejected - Math.min(50, report.rejections.length)} more; --json lists up to 1000)`] : []),
        ...(report.aborted ? ['stopped by the operator: the batches committed before the stop are kept'] : []),
        `store: ${store.countBindings()} bindings`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return report.rejected > 0 || report.aborted ? 1 : 0;
  } catch (err) {
    progress.stop();
    if (isHesGateError(err, 'HG_STORE')) {
      throw new HesGateError('HG_STORE', `${err.message} The batches committed before it are kept; run the import again to finish (unchanged rows are skipped).`, { cause: err });
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    store.close();
  }
}
