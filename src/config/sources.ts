/**
 * Where configuration comes from: the file named by HES_GATE_CONFIG (a shipped environment name
 * or a path) and secrets from `HES_GATE_*` variables or the files their `_FILE` twins name.
 * Failures are HG_CONFIG_FILE with the next step, never an errno stack.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HesGateError } from '../errors.js';
import { Secret } from './sensitive-value.js';

/** The package's root directory (where `config/` and `devices/` ship), from source or from dist/. */
export const PACKAGE_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

export type ValueSource = 'default' | `file ${string}` | `env ${string}`;

/** A bare name picks a shipped configuration (`test`); anything else is a path. */
export const CONFIG_NAME = /^[a-z][a-z0-9-]*$/;

/** The shipped configuration names (`config/*.json`). */
export function configNames(): string[] {
  try {
    return readdirSync(resolve(PACKAGE_ROOT, 'config'))
      .filter((n) => n.endsWith('.json') && CONFIG_NAME.test(n.slice(0, -5)))
      .map((n) => n.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** Resolve HES_GATE_CONFIG: a path, or a bare environment name (`default`, `test`, `live`). */
export function configFilePath(env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  const name = env.HES_GATE_CONFIG;
  if (name === undefined || name === '') return resolve(PACKAGE_ROOT, 'config', 'default.json');
  if (CONFIG_NAME.test(name)) return resolve(PACKAGE_ROOT, 'config', `${name}.json`);
  return isAbsolute(name) ? name : resolve(cwd, name);
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

/** The parsed JSON of a configuration file; `name` is HES_GATE_CONFIG as given. */
export function readConfigFile(path: string, name: string | undefined): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' && name !== undefined && CONFIG_NAME.test(name)) {
      throw new HesGateError(
        'HG_CONFIG_FILE',
        `there is no configuration named "${name}": HES_GATE_CONFIG takes one of ${configNames().join(', ')}, or the path of a JSON file`,
        { cause: err, details: { key: 'HES_GATE_CONFIG' } },
      );
    }
    throw new HesGateError('HG_CONFIG_FILE', `cannot read configuration file ${path}: ${errnoOf(err)}`, { cause: err, details: { key: 'HES_GATE_CONFIG' } });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `configuration file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** A secret from `name` or from the file `<name>_FILE` names; null when neither is set. */
export function readSecret(env: NodeJS.ProcessEnv, name: string): [Secret, ValueSource] | null {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '') {
    throw new HesGateError('HG_CONFIG_INVALID', `set either ${name} or ${name}_FILE, not both`, { details: { key: name } });
  }
  if (direct !== undefined && direct !== '') return [new Secret(direct), `env ${name}`];
  if (file === undefined || file === '') return null;
  let value: string;
  try {
    value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const why = errnoOf(err) === 'EACCES' ? `permission denied for user ${userName()}` : errnoOf(err) === 'ENOENT' ? 'no such file' : errnoOf(err);
    throw new HesGateError('HG_CONFIG_FILE', `cannot read the secret file ${file} named by ${name}_FILE (${why}): fix the path or the file's permissions`, {
      cause: err,
      details: { key: name },
    });
  }
  if (value.length === 0) throw new HesGateError('HG_CONFIG_INVALID', `the secret file named by ${name}_FILE is empty`, { details: { key: name } });
  return [new Secret(value), `env ${name}_FILE`];
}

/** The user this process runs as, for messages about permissions. */
export function userName(): string {
  try {
    const { username, uid } = userInfo();
    return `${username} (uid ${uid})`;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}
