#!/usr/bin/env node
/**
 * The `hes-gate` command. Each subcommand lives in its own file; this one only parses the
 * command line and turns coded errors into a message and an exit code (never a stack trace
 * for an operator's mistake).
 */
import { Command } from 'commander';
import { HesGateError } from '../errors.js';
import { registerCityCommands } from './city.js';
import { errorLine } from './error-line.js';
import { registerSelftestCommands } from './selftest.js';
import { registerStoreCommands } from './store.js';
import { registerVehicleCommands } from './vehicles.js';
import { versionLine } from './version.js';

// Files hes-gate creates (card store, its WAL, selftest reports) hold personal data:
// readable by the service user only, whatever umask the shell had.
process.umask(0o077);

// `hes-gate … | head`: a reader that closed the pipe has what it wanted. Exit quietly instead of
// an unhandled EPIPE stack trace; any other output error is still a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    fail(err);
  });
}

function fail(err: unknown): never {
  if (err instanceof HesGateError) {
    process.stderr.write(errorLine(err));
    process.exit(2);
  }
  process.stderr.write(`hes-gate: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

function run(fn: () => Promise<number | void>): () => void {
  return () => {
    fn().then((code) => {
      if (typeof code === 'number') process.exitCode = code;
    }, fail);
  };
}

const program = new Command();
program
  .name('hes-gate')
  .description('Fare-gate verification edge service for HES codes, HES QR codes and transit cards.')
  .version(versionLine(), '-V, --version', 'print the version and the commit it was built from')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the service (configuration: HES_GATE_CONFIG, HES_GATE_* variables)')
  .action(run(async () => (await import('./serve.js')).serve()));

program
  .command('check')
  .description('ask the configured ministry about one HES code (output masked)')
  .argument('<code>', 'HES code, dashes and spaces allowed')
  .option('--plus', 'use check-hes-code-plus (vaccination, immunity, test fields)')
  .option('--json', 'print JSON')
  .action((code: string, opts: { plus?: boolean; json?: boolean }) => run(async () => (await import('./check.js')).checkCode(code, opts))());

program
  .command('simulate')
  .description('run the ministry simulator alone (for rehearsal before credentials arrive)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on', '8089')
  .option('--codes <file>', 'JSON file of sample codes (default: the bundled set)')
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
  .option('--tls-key <file>', 'private key for --tls-cert (PEM)')
  .action((opts: { host: string; port: string; codes?: string; tlsCert?: string; tlsKey?: string }) =>
    run(async () => (await import('./simulate.js')).simulate(opts))(),
  );

program
  .command('devices')
  .description('list the configured gates, readers and gate controllers (with --url: their state in a running service)')
  .option('--url <url>', 'a running hes-gate, e.g. http://127.0.0.1:8080')
  .action((opts: { url?: string }) => run(async () => (await import('./devices.js')).listDevices(opts))());

program
  .command('tap')
  .description('rehearse without hardware: write one read, framed like the given reader profile, into a serial port or pseudo-terminal')
  .requiredOption('--port <path>', 'the peer end of the reader\'s pseudo-terminal (see docs/devices.md)')
  .requiredOption('--profile <name>', 'reader profile, e.g. honeywell-qr, rdm6300')
  .option('--card <id>', 'card id (hex)')
  .option('--qr <payload>', 'QR payload, e.g. "12345678901|A1B2345678"')
  .option('--aim <prefix>', 'AIM symbology prefix to send, e.g. ]Q1')
  .action((opts: { port: string; profile: string; card?: string; qr?: string; aim?: string }) => run(async () => (await import('./devices.js')).tap(opts))());

const cards = program.command('cards').description('transit card bindings');
cards
  .command('import')
  .description('import card bindings from CSV (card_id,hes_code,profile) or NDJSON ({"cardId","hesCode","profile"})')
  .argument('<file>', 'a .csv, .ndjson or .jsonl file')
  .option('--format <format>', 'csv or ndjson (default: from the file name)')
  .option('--batch-size <rows>', 'rows per transaction', '5000')
  .option('--json', 'print the report as JSON')
  .option('--lock-wait-ms <ms>', 'how long a batch waits for a running service\'s write lock', '10000')
  .option('--data-dir <dir>', 'the station\'s data directory (default: HES_GATE_DATA_DIR or the configuration\'s dataDir)')
  .option('--create', 'start a new card store when the data directory has none (else refused)')
  .action((file: string, opts: import('./cards.js').CardsImportOptions) => run(async () => (await import('./cards.js')).cardsImport(file, opts))());

const journal = program.command('journal').description('the decision journal (no codes, card ids or QR contents)');
journal
  .command('export')
  .description('print the decisions of a time range, oldest first')
  .requiredOption('--from <time>', 'ISO 8601 time (or ms since the epoch), inclusive')
  .requiredOption('--to <time>', 'ISO 8601 time (or ms since the epoch), exclusive')
  .option('--gate <id>', 'one gate only')
  .option('--format <format>', 'ndjson or csv', 'ndjson')
  .action((opts: { from: string; to: string; gate?: string; format?: string }) => run(async () => (await import('./journal.js')).journalExport(opts))());

registerSelftestCommands(program);
registerStoreCommands(program, run);
registerCityCommands(program, run);
registerVehicleCommands(program, run);

program.parseAsync(process.argv).catch(fail);
