/**
 * `hes-gate store backup|restore|check|migrate`: the card store's backups and upgrades, run by
 * an operator beside (backup, check) or instead of (restore, migrate) a station. The store is
 * `<data dir>/hes-gate.db`; the data dir comes from `--data-dir`, else from the configuration
 * (HES_GATE_DATA_DIR, the config file). Coded errors reach main.ts, which prints them (exit 2).
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { StoreReport } from '../cards/store-check.js';
import { HesGateError } from '../errors.js';

/** Loaded on use: the other commands need not load SQLite. */
const backup = (): Promise<typeof import('../cards/backup.js')> => import('../cards/backup.js');
const checking = (): Promise<typeof import('../cards/store-check.js')> => import('../cards/store-check.js');

export interface StoreCliOptions {
  dataDir?: string;
  json?: boolean;
  /** backup: remove timed backups older than this many days from the backup's directory. */
  keepDays?: string;
}

type Runner = (fn: () => Promise<number | void>) => () => void;

function dataDirOf(opts: StoreCliOptions): string {
  return resolve(opts.dataDir ?? loadConfig().config.dataDir);
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function describe(r: StoreReport): string {
  const rows = Object.entries(r.rows).map(([t, n]) => `${t} ${n}`).join(', ');
  const version = r.schemaVersion === r.buildSchemaVersion
    ? `schema version ${r.schemaVersion}`
    : `schema version ${r.schemaVersion} (this build: ${r.buildSchemaVersion}${r.schemaVersion < r.buildSchemaVersion ? '; `hes-gate store migrate` or the next start upgrades it' : '; newer than this build'})`;
  return `integrity ${r.integrity === 'ok' ? 'ok' : 'FAILED'}, ${version}, ${mib(r.bytes)}; rows: ${rows}`;
}

function print(opts: StoreCliOptions, report: object, text: string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${text}\n`);
}

function keepDaysOf(opts: StoreCliOptions): number | undefined {
  if (opts.keepDays === undefined) return undefined;
  const n = Number(opts.keepDays);
  if (!Number.isInteger(n) || n < 1) throw new HesGateError('HG_CONFIG_INVALID', `--keep-days takes a whole number of days from 1, not "${opts.keepDays}"`);
  return n;
}

export async function storeBackup(file: string, opts: StoreCliOptions): Promise<number> {
  const keepDays = keepDaysOf(opts);
  const b = await backup();
  const r = await b.backupStore(dataDirOf(opts), file);
  // Only after a good copy: a failing backup never shortens what is kept.
  const removed = keepDays === undefined ? [] : b.pruneBackups(dirname(r.file), keepDays);
  print(
    opts,
    keepDays === undefined ? r : { ...r, removed },
    [`backed up ${r.source} to ${r.file} in ${r.durationMs} ms: ${describe(r)}`, ...(keepDays === undefined ? [] : [`removed ${removed.length} backup file${removed.length === 1 ? '' : 's'} older than ${keepDays} days${removed.length === 0 ? '' : `: ${removed.join(', ')}`}`])].join('\n'),
  );
  return 0;
}

export async function storeRestore(file: string, opts: StoreCliOptions): Promise<number> {
  const r = await (await backup()).restoreStore(dataDirOf(opts), file);
  const lines = [
    `restored ${r.source} into ${r.file}: ${describe(r)}`,
    ...(r.migratedFrom === null ? [] : [`the backup had schema version ${r.migratedFrom}; migrated to ${r.schemaVersion}`]),
    ...(r.setAside === null ? [] : [`the damaged store that was there is kept as ${r.setAside}`]),
    'start the station, then run `hes-gate selftest`',
  ];
  print(opts, r, lines.join('\n'));
  return 0;
}

export async function storeCheck(file: string | undefined, opts: StoreCliOptions): Promise<number> {
  const { checkStore, storePath } = await checking();
  const r = checkStore(file === undefined ? storePath(dataDirOf(opts)) : resolve(file));
  print(opts, r, `${r.file}: ${describe(r)}`);
  return r.schemaVersion > r.buildSchemaVersion ? 1 : 0;
}

export async function storeMigrate(opts: StoreCliOptions): Promise<number> {
  const r = (await backup()).migrateStore(dataDirOf(opts));
  print(opts, r, r.from === r.to ? `${r.file}: schema version ${r.to}, nothing to migrate` : `${r.file}: migrated from schema version ${r.from} to ${r.to}`);
  return 0;
}

export function registerStoreCommands(program: Command, run: Runner): void {
  const store = program.command('store').description('the card store (<data dir>/hes-gate.db): backups, restore, integrity, upgrades');
  const dataDir = ['--data-dir <dir>', 'the station\'s data directory (default: HES_GATE_DATA_DIR or the configuration\'s dataDir)'] as const;
  store
    .command('backup')
    .description('write a consistent copy of the store to FILE while the station runs (SQLite online backup)')
    .argument('<file>', 'the backup file to write (replaced atomically when it exists)')
    .option(...dataDir)
    .option('--keep-days <days>', 'after the backup, remove timed backups (hes-gate-<UTC time>.db) older than this from its directory')
    .option('--json', 'print the report as JSON')
    .action((file: string, opts: StoreCliOptions) => run(() => storeBackup(file, opts))());
  store
    .command('restore')
    .description('replace the store of a STOPPED station with a backup (checked, and migrated when older)')
    .argument('<file>', 'a backup written by `hes-gate store backup`')
    .option(...dataDir)
    .option('--json', 'print the report as JSON')
    .action((file: string, opts: StoreCliOptions) => run(() => storeRestore(file, opts))());
  store
    .command('check')
    .description('run SQLite\'s integrity check and report the schema version (read-only; safe while serving)')
    .argument('[file]', 'a store or backup file (default: the station\'s store)')
    .option(...dataDir)
    .option('--json', 'print the report as JSON')
    .action((file: string | undefined, opts: StoreCliOptions) => run(() => storeCheck(file, opts))());
  store
    .command('migrate')
    .description('upgrade the store to this release\'s schema (serve does it too at start)')
    .option(...dataDir)
    .option('--json', 'print the report as JSON')
    .action((opts: StoreCliOptions) => run(() => storeMigrate(opts))());
}
