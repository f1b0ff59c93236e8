/**
 * What `serve` checks before it starts, beyond the configuration's own validity: the
 * exposure rule, the ministry credentials, files the configuration names, the addresses it
 * listens on, and the data directory. `hes-gate config check` runs the same checks (without
 * creating anything), so it refuses what `serve` refuses. Each problem is a coded error whose
 * message says what to do next.
 */
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { resolve } from 'node:path';
import { HesGateError } from '../errors.js';
import { prepareDataDir } from './data-dir.js';
import type { Config } from './schema.js';

export type Lookup = (host: string) => Promise<Array<{ address: string; family: number }>>;

export interface StartCheckOptions {
  /** Create the data directory (serve) or only check that it could be (config check). */
  createDataDir: boolean;
  /** Name resolution. @default dns.lookup with all addresses */
  lookup?: Lookup;
}

const defaultLookup: Lookup = (host) => lookup(host, { all: true });

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === '::ffff:127.0.0.1';
}

/** Ministry credentials are required for the ministry's test and live environments. */
export function credentialProblems(config: Config): HesGateError[] {
  const { environment, ministry } = config;
  if (ministry.baseUrl === null || (ministry.user !== null && ministry.password !== null)) return [];
  const missing = [
    ...(ministry.user === null ? ['HES_GATE_MINISTRY_USER (the user name the ministry sent)'] : []),
    ...(ministry.password === null ? ['HES_GATE_MINISTRY_PASSWORD_FILE (a file holding the password; or HES_GATE_MINISTRY_PASSWORD)'] : []),
  ];
  return [
    new HesGateError(
      'HG_CREDENTIALS_MISSING',
      `the ministry's ${environment} environment needs credentials: set ${missing.join(' and ')}; or run the embedded simulator with HES_GATE_CONFIG=default`,
      { details: { key: ministry.user === null ? 'ministry.user' : 'ministry.password' } },
    ),
  ];
}

/** Tokens required when `server.host` is reachable from other machines. */
export function exposureProblems(config: Config, addresses: readonly string[]): HesGateError[] {
  const { server } = config;
  if (server.allowUnauthenticated || (addresses.length > 0 && addresses.every(isLoopback))) return [];
  const missing = [...(server.apiToken === null ? ['HES_GATE_API_TOKEN'] : []), ...(server.adminToken === null ? ['HES_GATE_ADMIN_TOKEN'] : [])];
  if (missing.length === 0) return [];
  return [
    new HesGateError(
      'HG_EXPOSED_WITHOUT_TOKEN',
      `server.host is ${server.host}, which other machines can reach, but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set: ` +
        `set ${missing.length === 1 ? 'it' : 'them'} (or ${missing.map((m) => `${m}_FILE`).join(', ')}), listen on 127.0.0.1 (HES_GATE_HOST), ` +
        'or, on a network no one else can reach, set HES_GATE_ALLOW_UNAUTHENTICATED=1',
      { details: { key: 'server.host' } },
    ),
  ];
}

function fileProblem(key: string, file: string | null): HesGateError[] {
  if (file === null) return [];
  try {
    readFileSync(resolve(file));
    return [];
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    return [new HesGateError('HG_CONFIG_FILE', `${key} ${file} cannot be read (${why}): fix the path or the file's permissions`, { cause: err, details: { key } })];
  }
}

async function addressesOf(key: string, host: string, lookupFn: Lookup): Promise<string[] | HesGateError> {
  try {
    return (await lookupFn(host)).map((a) => a.address);
  } catch (err) {
    return new HesGateError('HG_LISTEN', `${key} "${host}" does not resolve to an address of this machine (${(err as NodeJS.ErrnoException).code ?? 'error'}): use an IP address such as 127.0.0.1 or 0.0.0.0`, {
      cause: err,
      details: { key },
    });
  }
}

/** A station or hub needs the city's Redis and the city key. */
export function cityProblems(config: Config): HesGateError[] {
  const { city } = config;
  if (city.role === 'standalone') return [];
  const problems: HesGateError[] = [];
  if (city.redisUrl === null && city.sentinels.length === 0) {
    problems.push(new HesGateError('HG_CONFIG_INVALID', `city.role is ${city.role} but neither city.redisUrl (HES_GATE_CITY_REDIS_URL) nor city.sentinels (HES_GATE_CITY_SENTINELS) is set: name the city's Redis`, { details: { key: 'city.redisUrl' } }));
  }
  if (city.keyFile === null) {
    problems.push(new HesGateError('HG_CONFIG_INVALID', `city.role is ${city.role} but city.keyFile (HES_GATE_CITY_KEY_FILE) is not set: every station and hub of a city needs the city key file`, { details: { key: 'city.keyFile' } }));
  } else {
    problems.push(...fileProblem('city.keyFile', city.keyFile));
  }
  if (city.nodeKeyFile === null) {
    problems.push(new HesGateError('HG_CONFIG_INVALID', `city.role is ${city.role} but city.nodeKeyFile (HES_GATE_CITY_NODE_KEY_FILE) is not set: every station and hub signs what it writes with its own key (hes-gate city node keygen)`, { details: { key: 'city.nodeKeyFile' } }));
  } else {
    problems.push(...fileProblem('city.nodeKeyFile', city.nodeKeyFile));
  }
  problems.push(...fileProblem('city.tlsCaFile', city.tlsCaFile));
  return problems;
}

/** Every reason `serve` would refuse to start with this configuration; empty when none. */
export async function startProblems(config: Config, options: StartCheckOptions): Promise<HesGateError[]> {
  const lookupFn = options.lookup ?? defaultLookup;
  const problems: HesGateError[] = [...credentialProblems(config)];
  const server = await addressesOf('server.host', config.server.host, lookupFn);
  if (server instanceof HesGateError) problems.push(server);
  else problems.push(...exposureProblems(config, server));
  if (config.ministry.baseUrl === null) {
    const sim = await addressesOf('simulator.host', config.simulator.host, lookupFn);
    if (sim instanceof HesGateError) problems.push(sim);
    problems.push(...fileProblem('simulator.codesFile', config.simulator.codesFile));
  }
  problems.push(...fileProblem('ministry.caFile', config.ministry.caFile));
  problems.push(...cityProblems(config));
  try {
    prepareDataDir(config.dataDir, { create: options.createDataDir });
  } catch (err) {
    if (!(err instanceof HesGateError)) throw err;
    problems.push(err);
  }
  return problems;
}
