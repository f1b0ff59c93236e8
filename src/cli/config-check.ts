/**
 * `hes-gate config check`: loads the configuration exactly as `serve` would, and prints every
 * effective setting with where it came from (file, environment variable, default). Secrets are
 * shown as set/unset only. Exit 0 when valid (warnings allowed), 2 with the coded error
 * (naming the key) when not.
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig, type ValueSource } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Secret } from '../config/sensitive-value.js';
import { HesGateError } from '../errors.js';
import type { CliIo } from './selftest.js';
import { checkEmbeddedSimulator, ministryEnvironment } from '../ministry/target.js';

/** Settings that only ever come from the environment or a secret file (load.ts SECRETS). */
const SECRET_KEYS = new Set(['ministry.password', 'server.apiToken', 'server.adminToken', 'simulator.controlToken']);

export interface ConfigCheckOptions {
  /** Configuration file or environment name; sets HES_GATE_CONFIG for this run. */
  config?: string;
  json?: boolean;
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

/** Settings that are valid but will not work where the operator is heading. */
export function configWarnings(config: Config): string[] {
  const out: string[] = [];
  const { environment, ministry } = config;
  if (ministryEnvironment(config) !== environment) {
    out.push(`environment is ${environment} but ministry.baseUrl is unset: the embedded simulator answers, and the station reports the simulator environment`);
  }
  if (ministryEnvironment(config) === 'test' || ministryEnvironment(config) === 'live') {
    const when = environment === 'test' ? 'sent with the test credentials (step 3)' : 'sent by e-mail (step 6)';
    if (ministry.user === null) out.push(`ministry.user is unset: set HES_GATE_MINISTRY_USER to the user name the ministry ${when}`);
    if (ministry.password === null) {
      out.push(`ministry.password is unset: put the ${environment} password in a file and set HES_GATE_MINISTRY_PASSWORD_FILE to it`);
    }
  }
  if (ministry.baseUrl !== null) {
    const testPath = /\/test\//.test(new URL(ministry.baseUrl).pathname);
    if (environment === 'live' && testPath) out.push('environment is live but ministry.baseUrl has the test prefix (/test/)');
    if (environment === 'test' && !testPath) out.push('environment is test but ministry.baseUrl has no test prefix (/test/): is it the live address?');
  }
  if (ministry.caFile !== null) {
    try {
      accessSync(resolve(ministry.caFile), constants.R_OK);
    } catch {
      out.push(`ministry.caFile cannot be read: ${ministry.caFile}`);
    }
  }
  return out;
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

export async function configCheck(opts: ConfigCheckOptions, io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = { ...(io.env ?? process.env) };
  if (opts.config !== undefined) {
    // A bare name (`test`) picks a shipped environment; anything else is a path from here.
    env.HES_GATE_CONFIG = /^[a-z][a-z0-9-]*$/.test(opts.config) ? opts.config : resolve(io.cwd ?? process.cwd(), opts.config);
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ env });
    checkEmbeddedSimulator(loaded.config);
  } catch (err) {
    if (!(err instanceof HesGateError)) throw err;
    stderr.write(`hes-gate config check: ${err.code}: ${err.message}\n`);
    if (opts.json) {
      const key = err.details?.['key'];
      stdout.write(`${JSON.stringify({ ok: false, error: { code: err.code, message: err.message, ...(typeof key === 'string' ? { key } : {}) } })}\n`);
    }
    return 2;
  }
  const settings = effectiveSettings(loaded);
  const warnings = configWarnings(loaded.config as Config);
  if (opts.json) {
    stdout.write(`${JSON.stringify({ ok: true, file: loaded.file, environment: ministryEnvironment(loaded.config), settings, warnings }, null, 2)}\n`);
    return 0;
  }
  stdout.write(
    [
      `Configuration file: ${loaded.file ?? '(none)'}`,
      `Environment: ${ministryEnvironment(loaded.config)}`,
      '',
      table(settings),
      '',
      ...warnings.map((w) => `warning: ${w}`),
      `OK: the configuration is valid${warnings.length === 0 ? '' : ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})`}`,
    ].join('\n') + '\n',
  );
  return 0;
}
