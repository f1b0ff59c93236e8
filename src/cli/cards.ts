import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { cityKeyspace } from '../city/keyspace.js';
import { loadConfig } from '../config/load.js';
import { HesGateError, isHesGateError } from '../errors.js';
import { openCardStore, STORE_FILE } from '../cards/store.js';
import type { LoadedConfig } from '../config/load.js';
import { formatFromPath, importCards, type ImportFormat, type ImportReport } from '../cards/import.js';
import { renderImportProgress } from '../cards/import-progress.js';

function reportLines(report: ImportReport): string[] {
  return [
    `imported ${report.imported} (created ${report.created}, updated ${report.updated}, unchanged ${report.unchanged}) of ${report.linesRead} lines in ${(report.durationMs / 1000).toFixed(1)} s`,
    `rejected ${report.rejected}${report.rejected > 0 ? `: ${Object.entries(report.rejectedByReason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ')}` : ''}`,
    ...report.rejections.slice(0, 50).map((r) => `  line ${r.line}: ${r.reason}`),
    ...(report.rejections.length > 50 || report.rejectionsTruncated ? [`  … (${report.rejected - Math.min(50, report.rejections.length)} more; --json lists up to 1000)`] : []),
    ...(report.aborted ? ['stopped by the operator: the batches committed before the stop are kept'] : []),
  ];
}

export interface CardsImportOptions {
  format?: string;
  batchSize?: string;
  json?: boolean;
  lockWaitMs?: string;
  /** The station's data directory; default HES_GATE_DATA_DIR or the configuration's dataDir. */
  dataDir?: string;
  /** Start a new store when there is none in the data directory (else refused). */
  create?: boolean;
}

/**
 * The store file the import writes, and where its directory came from. Without --create a
 * missing store is refused: an import run without the service's environment would otherwise
 * fill a new `./data/hes-gate.db` in whatever directory the shell was in, and no station reads it.
 */
function storeTarget(loaded: LoadedConfig, opts: CardsImportOptions): { dataDir: string; file: string; from: string } {
  const dataDir = resolve(opts.dataDir ?? loaded.config.dataDir);
  const from = opts.dataDir !== undefined ? '--data-dir' : (loaded.sources.get('dataDir') ?? 'default');
  const file = join(dataDir, STORE_FILE);
  if (!opts.create && !existsSync(file)) {
    throw new HesGateError(
      'HG_STORE',
      `there is no card store at ${file} (data dir from ${from}): name the station's data directory with --data-dir (systemd install: --data-dir /var/lib/hes-gate, run as the hes-gate user), or pass --create to start a new store there`,
      { details: { key: 'dataDir', path: file } },
    );
  }
  return { dataDir, file, from };
}

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
 *
 * In a city the local store is a replica: on a hub the rows go to the city's registry in Redis
 * (batches of 500, one change stream entry each; the local journal gets the summary), and on a
 * station the command refuses (HG_CITY_REPLICA).
 */
export async function cardsImport(file: string, opts: CardsImportOptions): Promise<number> {
  const loaded = loadConfig();
  const { config } = loaded;
  const format = (opts.format ?? formatFromPath(file)) as ImportFormat | undefined;
  if (format !== 'csv' && format !== 'ndjson') {
    throw new HesGateError('HG_IMPORT_FILE', `cannot tell the format of ${file}: use a .csv, .ndjson or .jsonl file, or --format csv|ndjson`);
  }
  if (config.city.role === 'station') {
    throw new HesGateError('HG_CITY_REPLICA', 'this station is a replica of its city (city.role station): import the cards at a hub');
  }
  if (config.city.role === 'vehicle') {
    throw new HesGateError('HG_CITY_REPLICA', 'this vehicle decides card taps from the signed list its hub publishes (city.role vehicle): import the cards at a hub');
  }
  const target = storeTarget(loaded, opts);
  if (config.city.role === 'hub') return importAtHub(file, format, config, target, opts);
  const batchSize = opts.batchSize === undefined ? 5000 : Number(opts.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new HesGateError('HG_CONFIG_INVALID', '--batch-size must be an integer from 1 to 100000');
  }
  const lockWaitMs = opts.lockWaitMs === undefined ? 10_000 : Number(opts.lockWaitMs);
  if (!Number.isInteger(lockWaitMs) || lockWaitMs < 0 || lockWaitMs > 600_000) {
    throw new HesGateError('HG_CONFIG_INVALID', '--lock-wait-ms must be an integer from 0 to 600000');
  }
  const store = openCardStore({ dataDir: target.dataDir, busyTimeoutMs: lockWaitMs });
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
      process.stdout.write(`${JSON.stringify({ ...report, store: store.file })}\n`);
    } else {
      process.stdout.write(`${[...reportLines(report), `store: ${store.file} (data dir from ${target.from}): ${store.countBindings()} bindings`].join('\n')}\n`);
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

/** The hub's import: the file streamed to the city's registry; the service's replica learns it from the stream. */
async function importAtHub(file: string, format: ImportFormat, config: Config, target: { dataDir: string }, opts: CardsImportOptions): Promise<number> {
  let totalBytes: number;
  try {
    totalBytes = (await stat(file)).size;
  } catch (err) {
    throw new HesGateError('HG_IMPORT_FILE', `The import file ${file} could not be read.`, { cause: err });
  }
  const { openCity } = await import('./city-connection.js');
  const { CityRegistry } = await import('../city/hub/registry.js');
  const { importToRegistry } = await import('../city/hub/import.js');
  const { key, redis } = await openCity(config, 'cards-import');
  const { NodeKey } = await import('../city/identity/node-key.js');
  // Signed as this hub: the registry's entries are refused by every node otherwise.
  const nodeKey = await NodeKey.load(config.city.nodeKeyFile!);
  const registry = new CityRegistry({ redis, key, nodeId: config.stationId, changesMaxLen: config.city.changesMaxLen, nodeKey });
  const store = openCardStore({ dataDir: target.dataDir, busyTimeoutMs: opts.lockWaitMs === undefined ? 10_000 : Number(opts.lockWaitMs) });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  const progress = renderImportProgress();
  try {
    const report = await importToRegistry(createReadStream(file, { highWaterMark: 64 * 1024 }), {
      registry,
      format,
      journalAs: 'cli',
      journal: async (entry) => store.journal(entry, 'full'),
      onProgress: (p) => progress.onProgress(p),
      totalBytes,
      signal: controller.signal,
    });
    progress.stop();
    if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(`${[...reportLines(report), `city: ${await redis.hlen(cityKeyspace(key.kid).bindings)} bindings`].join('\n')}\n`);
    return report.rejected > 0 || report.aborted ? 1 : 0;
  } catch (err) {
    progress.stop();
    if (isHesGateError(err, 'HG_CITY_UNAVAILABLE')) {
      throw new HesGateError('HG_CITY_UNAVAILABLE', `${err.message}. The batches written before it are kept; run the import again to finish (unchanged rows are skipped).`, { cause: err });
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    store.close();
    redis.disconnect();
  }
}
