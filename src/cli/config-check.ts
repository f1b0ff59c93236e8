/**
 * `hes-gate config check`: loads the configuration exactly as `serve` would, runs the same
 * start checks (without creating anything), and prints every effective setting with where it
 * came from (file, environment variable, default). Secrets are shown as set/unset only.
 * Exit 0 when `serve` would start (warnings allowed), 2 with the coded error(s) when it would not,
 * 1 when nothing named a configuration and the bundled simulator's was checked instead (said on
 * stderr: such a check proves nothing about a station). `--unit` checks the systemd unit's own
 * environment and credentials (unit-environment.ts).
 */
import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig, type ValueSource } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { CONFIG_NAME } from '../config/sources.js';
import { credentialProblems, startProblems, startWarnings, type Lookup } from '../config/start-checks.js';
import { Secret } from '../config/sensitive-value.js';
import { SECRETS } from '../config/settings.js';
import { HesGateError } from '../errors.js';
import { errorLine } from './error-line.js';
import type { CliIo } from './io.js';
import { ministryEnvironment } from '../ministry/target.js';
import { checkEmbeddedSimulator } from '../simulator/embedded.js';
import { defaultUnitFile, unitEnvironment, type UnitEnvironment } from './unit-environment.js';

/** Settings that only ever come from the environment or a secret file. */
const SECRET_KEYS = new Set(SECRETS.values());

export interface ConfigCheckOptions {
  /** Configuration file or environment name; sets HES_GATE_CONFIG for this run. */
  config?: string;
  json?: boolean;
  /**
   * Check what the systemd unit runs: its Environment=, EnvironmentFile= and LoadCredential= (and
   * its drop-ins) instead of this shell's environment. `true`: the installed unit
   * (/etc/systemd/system/hes-gate.service), else the packaged one; a string: that unit file.
   */
  unit?: string | boolean;
  /** Do not bind the listen addresses (the station is running on them). */
  skipListen?: boolean;
}

interface Setting {
  value: unknown;
  source: string;
}

function valueAt(config: Config, key: string): unknown {
  let cur: unknown = config;
  for (const k of key.split('.')) cur = (cur as Record<string, unknown> | null)?.[k];
  return cur;
}

function shown(key: string, value: unknown): unknown {
  if (SECRET_KEYS.has(key)) return value instanceof Secret ? 'set' : 'unset';
  if (key === 'gates.list') return (value as Config['gates']['list']).map((g) => g.id);
  return value;
}

function sourceLabel(source: ValueSource, file: string | null): string {
  return file !== null && source === `file ${file}` ? 'file' : source;
}

/** Settings that are valid but look wrong for where the operator is heading. */
function advisories(config: Config): string[] {
  const out: string[] = [];
  const { environment, ministry } = config;
  if (ministryEnvironment(config) !== environment) {
    out.push(
      ministry.baseUrl === null
        ? `environment is ${environment} but ministry.baseUrl is unset: the embedded simulator answers, and the station reports the simulator environment`
        : `environment is ${environment} but the ministry user and password are the simulator's own: hes-gate simulate answers, and the station reports the simulator environment`,
    );
  }
  if (ministry.baseUrl !== null) {
    const testPath = /\/test\//.test(new URL(ministry.baseUrl).pathname);
    if (environment === 'live' && testPath) out.push('environment is live but ministry.baseUrl has the test prefix (/test/)');
    if (environment === 'test' && !testPath) out.push('environment is test but ministry.baseUrl has no test prefix (/test/): is it the live address?');
  }
  return out;
}

/** For one-off commands (selftest): missing credentials and advisories, as warning lines. */
export function configWarnings(config: Config): string[] {
  return [...credentialProblems(config).map((e) => `${e.code}: ${e.message}`), ...advisories(config)];
}

export function effectiveSettings(loaded: LoadedConfig): Record<string, Setting> {
  const out: Record<string, Setting> = {};
  for (const [key, source] of loaded.sources) {
    out[key] = { value: shown(key, valueAt(loaded.config as Config, key)), source: sourceLabel(source, loaded.file) };
  }
  return out;
}

function table(settings: Record<string, Setting>): string {
  const rows = Object.entries(settings).map(([k, s]) => [k, SECRET_KEYS.has(k) ? String(s.value) : JSON.stringify(s.value), s.source]);
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.min(60, Math.max(...rows.map((r) => r[1]!.length)));
  return rows.map(([k, v, s]) => `${k!.padEnd(w0)}  ${v!.padEnd(w1)}  ${s}`).join('\n');
}

export async function configCheck(opts: ConfigCheckOptions, io: CliIo & { lookup?: Lookup } = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let env: NodeJS.ProcessEnv = { ...(io.env ?? process.env) };
  const header: string[] = [];
  if (opts.unit !== undefined && opts.unit !== false) {
    let unit: UnitEnvironment;
    try {
      unit = unitEnvironment(typeof opts.unit === 'string' ? resolve(io.cwd ?? process.cwd(), opts.unit) : defaultUnitFile(), {
        ...(env.CREDENTIALS_DIRECTORY === undefined || env.CREDENTIALS_DIRECTORY === '' ? {} : { credentialsDirectory: env.CREDENTIALS_DIRECTORY }),
      });
    } catch (err) {
      if (!(err instanceof HesGateError)) throw err;
      stderr.write(errorLine(err));
      return 2;
    }
    // Only what the unit sets (and PATH): this shell's HES_GATE_* variables do not reach the service.
    env = { ...(env.PATH === undefined ? {} : { PATH: env.PATH }), ...unit.env };
    header.push(
      `Unit: ${unit.files.join(' + ')}`,
      `Environment file: ${unit.environmentFiles.join(', ') || '(none)'}`,
      `Credentials: ${[...unit.credentials].map(([name, file]) => `${name} (${file})`).join(', ') || '(none)'}`,
    );
  }
  if (opts.config !== undefined) {
    // A bare name (`test`) picks a shipped environment; anything else is a path from here.
    env.HES_GATE_CONFIG = CONFIG_NAME.test(opts.config) ? opts.config : resolve(io.cwd ?? process.cwd(), opts.config);
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ env });
    checkEmbeddedSimulator(loaded.config);
  } catch (err) {
    if (!(err instanceof HesGateError)) throw err;
    stderr.write(errorLine(err));
    if (opts.json) {
      const key = err.details?.['key'];
      stdout.write(`${JSON.stringify({ ok: false, error: { code: err.code, message: err.message, ...(typeof key === 'string' ? { key } : {}) } })}\n`);
    }
    return 2;
  }
  const settings = effectiveSettings(loaded);
  // Nothing named a configuration: the bundled simulator's was checked, which no station runs.
  // Said loudly and exit 1, so a check that could not see the real settings never reads as a pass.
  const fellBack = env.HES_GATE_CONFIG === undefined || env.HES_GATE_CONFIG === '';
  const fallbackWarning = fellBack
    ? `HES_GATE_CONFIG is not set, so this checked the bundled ${loaded.file ?? 'config/default.json'} (the embedded simulator), not a station's configuration: ` +
      'check what the service runs with `sudo hes-gate config check --unit`, or name one with --config (--config default to check the simulator on purpose)'
    : null;
  const dataDir = resolve(io.cwd ?? process.cwd(), (loaded.config as Config).dataDir);
  const lookupOption = io.lookup === undefined ? {} : { lookup: io.lookup };
  const warnings = [...advisories(loaded.config as Config), ...(await startWarnings(loaded.config as Config, lookupOption))];
  const problems = await startProblems(loaded.config as Config, { createDataDir: false, probeListen: opts.skipListen !== true, ...lookupOption });
  const ok = problems.length === 0;
  const exit = ok ? (fellBack ? 1 : 0) : 2;
  if (fallbackWarning !== null) stderr.write(`hes-gate: warning: ${fallbackWarning}\n`);
  if (opts.json) {
    const errors = problems.map((p) => ({ code: p.code, message: p.message, ...(typeof p.details?.['key'] === 'string' ? { key: p.details['key'] } : {}) }));
    stdout.write(
      `${JSON.stringify({ ok, file: loaded.file, fellBack, dataDir, environment: ministryEnvironment(loaded.config), settings, warnings: [...(fallbackWarning === null ? [] : [fallbackWarning]), ...warnings], ...(ok ? {} : { error: errors[0], problems: errors }) }, null, 2)}\n`,
    );
    return exit;
  }
  const s = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  stdout.write(
    [
      ...header,
      `Configuration file: ${loaded.file ?? '(none)'}${fellBack ? '  <- the bundled simulator configuration: HES_GATE_CONFIG is not set (see the warning)' : ''}`,
      `Data directory: ${dataDir}`,
      `Environment: ${ministryEnvironment(loaded.config)}`,
      '',
      table(settings),
      '',
      ...warnings.map((w) => `warning: ${w}`),
      ok
        ? fellBack
          ? 'NOT CHECKED: the bundled simulator configuration is valid, but no station configuration was named (exit 1)'
          : `OK: the configuration is valid${warnings.length === 0 ? '' : ` (${s(warnings.length, 'warning')})`}`
        : `serve would refuse to start: ${s(problems.length, 'problem')} (below)`,
    ].join('\n') + '\n',
  );
  for (const p of problems) stderr.write(errorLine(p));
  return exit;
}
