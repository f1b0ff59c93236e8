/**
 * The environment the systemd unit gives `hes-gate serve`, rebuilt for `config check --unit`:
 * the unit file and its drop-ins (`<unit>.d/*.conf`), their `Environment=` lines, the
 * `EnvironmentFile=` they name, and the `LoadCredential=` files behind `%d/<name>`.
 *
 *   hes-gate.service + hes-gate.service.d/*.conf
 *     ├─ Environment=K=V …            ─┐
 *     ├─ EnvironmentFile=/etc/…/env  ──┼─> env (what serve sees) ─> config check
 *     └─ LoadCredential=name:/etc/…  ──┘   %d/name → $CREDENTIALS_DIRECTORY/name, else the source file
 *
 * Whatever cannot be read is a coded error naming the file and the user, never a quiet fallback:
 * systemd refuses to start the unit in the same case.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HesGateError } from '../errors.js';
import { PACKAGE_ROOT, userName } from '../config/sources.js';

/** Where `docs/install.md` installs the unit; the packaged copy when it is not installed. */
export function defaultUnitFile(): string {
  const installed = '/etc/systemd/system/hes-gate.service';
  return existsSync(installed) ? installed : resolve(PACKAGE_ROOT, 'packaging', 'hes-gate.service');
}

export interface UnitEnvironment {
  /** The unit file and the drop-ins read, in order. */
  files: string[];
  /** EnvironmentFile= paths read (a `-` prefixed one that is missing is left out). */
  environmentFiles: string[];
  /** Credential name → the file it was read from. */
  credentials: Map<string, string>;
  /** The variables the unit sets, as `serve` would see them (PATH added by the caller). */
  env: Record<string, string>;
}

function unreadable(what: string, file: string, err: unknown): HesGateError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const why = code === 'EACCES' ? `permission denied for user ${userName()}` : code === 'ENOENT' ? 'no such file' : code;
  return new HesGateError('HG_CONFIG_FILE', `cannot read ${what} ${file} (${why}): nothing was checked; run as root (sudo hes-gate config check --unit) or fix the path`, {
    cause: err,
    details: { key: 'unit', path: file },
  });
}

function read(what: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw unreadable(what, file, err);
  }
}

/** `[Service]` assignments of one unit file, in order (comments, other sections and continuations handled). */
function serviceLines(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let section = '';
  for (const raw of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      section = line;
      continue;
    }
    const eq = line.indexOf('=');
    if (section === '[Service]' && eq > 0) out.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

/** `Environment=` values: space-separated assignments, each optionally in double quotes. */
function assignments(value: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of value.matchAll(/"([^"]*)"|(\S+)/g)) {
    const a = m[1] ?? m[2]!;
    const eq = a.indexOf('=');
    if (eq > 0) out.push([a.slice(0, eq), a.slice(eq + 1)]);
  }
  return out;
}

/** An EnvironmentFile: KEY=VALUE lines, `#`/`;` comments, optional quotes around the value. */
function environmentFile(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const v = line.slice(eq + 1).trim();
    out.push([line.slice(0, eq).trim(), /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v]);
  }
  return out;
}

export interface UnitEnvironmentOptions {
  /** systemd's credentials directory when run inside one (`$CREDENTIALS_DIRECTORY`). */
  credentialsDirectory?: string;
  /** `%S`: the system state directory. @default /var/lib */
  stateDirectory?: string;
}

export function unitEnvironment(unitFile: string, options: UnitEnvironmentOptions = {}): UnitEnvironment {
  const unit = resolve(unitFile);
  const dropInDir = `${unit}.d`;
  let dropIns: string[] = [];
  try {
    dropIns = readdirSync(dropInDir).filter((n) => n.endsWith('.conf')).sort().map((n) => join(dropInDir, n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable('the unit\'s drop-in directory', dropInDir, err);
  }
  const files = [unit, ...dropIns];
  const lines = files.flatMap((f) => serviceLines(read(f === unit ? 'the unit file' : 'the unit\'s drop-in', f)));

  const credentials = new Map<string, string>();
  for (const [key, value] of lines) {
    if (key !== 'LoadCredential') continue;
    const colon = value.indexOf(':');
    const name = colon < 0 ? value : value.slice(0, colon);
    credentials.set(name, colon < 0 ? join('/etc/credstore', name) : value.slice(colon + 1));
  }
  const credentialFile = (name: string): string => {
    if (options.credentialsDirectory !== undefined) return join(options.credentialsDirectory, name);
    const source = credentials.get(name);
    if (source === undefined) throw new HesGateError('HG_CONFIG_FILE', `the unit names the credential %d/${name} but loads no LoadCredential=${name}:…`, { details: { key: 'unit' } });
    return source;
  };
  const specifiers = (v: string): string =>
    v.replace(/%d\/([^\s/]+)|%(.)/g, (whole, name: string | undefined, spec: string | undefined) => {
      if (name !== undefined) return credentialFile(name);
      if (spec === 'S') return options.stateDirectory ?? '/var/lib';
      if (spec === '%') return '%';
      return whole;
    });

  // systemd's order: Environment= and EnvironmentFile= in the order read; a later one wins.
  const env: Record<string, string> = {};
  const environmentFiles: string[] = [];
  for (const [key, value] of lines) {
    if (key === 'Environment') {
      for (const [k, v] of assignments(value)) env[k] = specifiers(v);
    } else if (key === 'EnvironmentFile') {
      const optional = value.startsWith('-');
      const file = specifiers(optional ? value.slice(1) : value);
      if (optional && !existsSync(file)) continue;
      for (const [k, v] of environmentFile(read('the unit\'s EnvironmentFile', file))) env[k] = v;
      environmentFiles.push(file);
    }
  }
  // The service reads every credential it was handed: one it cannot read fails here, as systemd would.
  for (const name of credentials.keys()) {
    const file = credentialFile(name);
    try {
      readFileSync(file);
    } catch (err) {
      throw unreadable(`the credential ${name} (LoadCredential)`, file, err);
    }
  }
  return { files, environmentFiles, credentials, env };
}
