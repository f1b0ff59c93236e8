/**
 * `hes-gate selftest`: proves the integration with the configured ministry environment
 * (step 5 of the ministry's procedure, see docs/integration.md) and writes the report to
 * attach to the e-mail. `selftest()` returns the exit code (0 all passed, 1 a check failed,
 * 2 usage or configuration error) and never exits the process itself, so tests call it.
 */
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, PACKAGE_ROOT } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { HesGateError } from '../errors.js';
import { loadSampleCodes, sampleCodes } from '../simulator/sample-codes.js';
import { resolveCodes, simulatorDefaults, type CodeOptions } from '../selftest/codes.js';
import { progressHooks } from '../selftest/progress.js';
import { buildReport, ministryAddress, renderText, writeReportFiles } from '../selftest/report.js';
import { runSelftest } from '../selftest/runner.js';
import type { SelftestCodes, SelftestReport } from '../selftest/types.js';
import { configCheck, configWarnings } from './config-check.js';
import type { CliIo } from './io.js';
import { startEmbeddedSimulator } from '../simulator/embedded.js';
import { ministryEnvironment, openMinistryTarget, type MinistryTarget } from '../ministry/target.js';
import type { MinistryClient } from '../ministry/types.js';

export interface SelftestCliOptions extends CodeOptions {
  /** Allow a run against the live environment. */
  live?: boolean;
  /** Directory for the report files. @default the working directory */
  report?: string;
  latencyCalls?: number;
  latencyBudgetMs?: number;
}

/** Live is the environment label, or the live path prefix whatever the label says; never the embedded simulator. */
function isLive(config: Config): boolean {
  if (config.ministry.baseUrl === null) return false;
  if (ministryEnvironment(config) === 'live') return true;
  return /\/g2g\/saglik\//.test(new URL(config.ministry.baseUrl).pathname);
}

export function hesGateVersion(): string {
  try {
    return String((JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function intOption(value: number | undefined, name: string, min: number, max: number, def: number): number {
  if (value === undefined) return def;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new HesGateError('HG_CONFIG_INVALID', `${name} must be an integer from ${min} to ${max}`, { details: { key: name } });
  }
  return value;
}

export async function selftest(opts: SelftestCliOptions, io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const clock = io.clock ?? Date.now;
  const usage = (message: string): number => {
    stderr.write(`hes-gate selftest: ${message}\n`);
    return 2;
  };

  let config: Config;
  let codes: SelftestCodes;
  let latencyCalls: number;
  let latencyBudgetMs: number;
  const dir = resolve(io.cwd ?? process.cwd(), opts.report ?? '.');
  try {
    // Found out now, not after a run that may have waited for the ministry's timeouts.
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return usage(`cannot write the report into ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    ({ config } = loadConfig({ env: io.env ?? process.env }));
    if (isLive(config) && opts.live !== true) {
      return usage(
        'this configuration speaks to the LIVE ministry environment; the self-test is meant for the test environment ' +
          '(step 5). Give --live to run it against live anyway, with codes of people who agreed to it.',
      );
    }
    // The embedded simulator's codes are known here; `hes-gate simulate` may have been given others (--codes).
    const onSimulator = config.ministry.baseUrl === null;
    const defaults = onSimulator
      ? simulatorDefaults(config.simulator.codesFile === null ? sampleCodes(clock()) : loadSampleCodes(config.simulator.codesFile), clock())
      : {};
    codes = resolveCodes(opts, defaults);
    latencyCalls = intOption(opts.latencyCalls, '--latency-calls', 1, 100, 5);
    latencyBudgetMs = intOption(opts.latencyBudgetMs, '--latency-budget-ms', 1, 120_000, 1000);
  } catch (err) {
    if (err instanceof HesGateError) return usage(`${err.code}: ${err.message}`);
    throw err;
  }

  let target: MinistryTarget;
  let ministry: MinistryClient;
  try {
    target = await openMinistryTarget(config, { simulatorPort: 0, embedded: startEmbeddedSimulator });
    ministry = target.createClient();
  } catch (err) {
    const why = err instanceof HesGateError ? `${err.code}: ${err.message}` : `${(err as NodeJS.ErrnoException).code ?? 'error'} (ministry.caFile?)`;
    return usage(`cannot set up the ministry client: ${why}`);
  }

  const startedAt = clock();
  let report: SelftestReport;
  try {
    for (const w of configWarnings(config)) stderr.write(`warning: ${w}\n`);
    stderr.write(`hes-gate selftest: checking the ${target.environment} environment at ${ministryAddress(target.baseUrl).host}\n`);
    const run = await runSelftest(ministry, { codes, latencyCalls, latencyBudgetMs, clock, ...progressHooks(stderr) });
    report = buildReport(run, {
      version: hesGateVersion(),
      startedAt,
      environment: target.environment,
      baseUrl: target.baseUrl,
      user: target.user,
    });
  } finally {
    await ministry.close();
    await target.close();
  }

  stdout.write(`\n${renderText(report)}`);
  try {
    const paths = writeReportFiles(report, dir);
    stdout.write(`Report: ${paths.markdown}\n        ${paths.json}\n`);
  } catch (err) {
    return usage(`cannot write the report into ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (report.result === 'PASS' && target.environment === 'test') {
    stdout.write('Attach both files to the e-mail that tells HES support the test integration is complete (step 5).\n');
  }
  return report.result === 'PASS' ? 0 : 1;
}

const int = (v: string): number => (/^\d+$/.test(v) ? Number(v) : Number.NaN);

/**
 * Adds `selftest` and `config check` to the `hes-gate` program; each sets `process.exitCode`.
 * `io` is for tests (environment, output streams); the command line leaves it out.
 */
export function registerSelftestCommands(program: Command, io: CliIo = {}): void {
  program
    .command('selftest')
    .description('check every ministry call against the configured environment and write a report (step 5 of the integration)')
    .option('--riskless <code>', 'a sample code the environment answers RISKLESS (required unless on the simulator)')
    .option('--risky <code>', 'a sample code the environment answers RISKY')
    .option('--not-found <code>', 'a sample code the environment does not know')
    .option('--expired <code>', 'a sample code whose sharing period has ended')
    .option('--employee <code>', 'a staff member\'s code, to check check-employee-hes-code')
    .option('--visitor <code>', 'a visitor\'s code, to check check-visitor-hes-code (default: the riskless code)')
    .option('--visitor-city <city>', 'visitor check: city')
    .option('--visitor-district <district>', 'visitor check: district')
    .option('--visitor-address <address>', 'visitor check: explicit address')
    .option('--visitor-location <lat,lon>', 'visitor check: location in decimal degrees')
    .option('--codes <file>', 'JSON file with the sample codes: {"riskless","risky","notFound","expired","employee","visitor":{…}}')
    .option('--report <dir>', 'directory for the report files (default: the working directory)')
    .option('--latency-calls <n>', 'single checks made to measure latency', int)
    .option('--latency-budget-ms <ms>', 'fail the latency check when the median call is slower', int)
    .option('--live', 'allow running against the live environment')
    .action(async (opts: SelftestCliOptions) => {
      process.exitCode = await selftest(opts, io);
    });

  program
    .command('config')
    .description('inspect the configuration')
    .command('check')
    .description('validate the configuration and print the effective settings (secrets shown as set/unset) and where each came from')
    .option('--config <file>', 'configuration file or environment name (sets HES_GATE_CONFIG for this run)')
    .option('--json', 'print JSON')
    .option('--unit [file]', 'check what the systemd unit runs: its Environment=, EnvironmentFile= and LoadCredential= files (default: /etc/systemd/system/hes-gate.service, with its drop-ins); run as root')
    .option('--skip-listen', 'do not try the listen addresses (the station is running on them)')
    .action(async (opts: { config?: string; json?: boolean; unit?: string | boolean; skipListen?: boolean }) => {
      process.exitCode = await configCheck(opts, io);
    });
}
