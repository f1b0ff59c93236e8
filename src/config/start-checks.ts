/**
 * What `serve` checks before it starts, beyond the configuration's own validity: the
 * exposure rule, the ministry credentials, files the configuration names, the addresses it
 * listens on, and the data directory. `hes-gate config check` runs the same checks (without
 * creating anything), so it refuses what `serve` refuses. Each problem is a coded error whose
 * message says what to do next.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { HesGateError } from '../errors.js';
import { prepareDataDir } from './data-dir.js';
import { weakTokenError } from './token-rule.js';
import type { Config } from './schema.js';

export type Lookup = (host: string) => Promise<Array<{ address: string; family: number }>>;

export interface StartCheckOptions {
  /** Create the data directory (serve) or only check that it could be (config check). */
  createDataDir: boolean;
  /** Name resolution. @default dns.lookup with all addresses */
  lookup?: Lookup;
  /**
   * Bind the addresses `serve` would listen on, and let go at once (config check): a port in use
   * or an address not on this machine is refused before `serve` meets it. `serve` itself listens
   * and reports the same error from there. @default false
   */
  probeListen?: boolean;
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

/**
 * Every configured bearer token against the one token rule (token-rule.ts), and the admin token
 * apart from the API token: a validator holding the API token must not hold the admin API too.
 * The simulator's token counts only when the embedded simulator runs (its own check refuses it
 * there too; the same rule, so the same line).
 */
export function tokenProblems(config: Config): HesGateError[] {
  const { apiToken, adminToken } = config.server;
  const controlToken = config.ministry.baseUrl === null ? config.simulator.controlToken : null;
  const problems = (
    [
      ['HES_GATE_API_TOKEN', 'server.apiToken', apiToken],
      ['HES_GATE_ADMIN_TOKEN', 'server.adminToken', adminToken],
      ['HES_GATE_SIMULATOR_TOKEN', 'simulator.controlToken', controlToken],
    ] as const
  ).flatMap(([variable, key, token]) => (token === null ? [] : [weakTokenError(variable, key, token.reveal())].filter((e) => e !== null)));
  if (apiToken !== null && adminToken !== null && apiToken.reveal() === adminToken.reveal()) {
    problems.push(new HesGateError('HG_TOKEN_WEAK', 'HES_GATE_ADMIN_TOKEN equals HES_GATE_API_TOKEN: every validator would hold the admin API; give them different tokens (openssl rand -hex 16)', { details: { key: 'server.adminToken' } }));
  }
  return problems;
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

/**
 * A listen failure (serve's, or config check's probe) as one HG_LISTEN line with the next step;
 * undefined for an error that is not about listening.
 */
export function listenError(err: unknown, host: string): HesGateError | undefined {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.syscall !== 'listen' && e.syscall !== 'bind' && e.syscall !== 'getaddrinfo') return undefined;
  const where = e.port === undefined ? host : `${e.address ?? host}:${e.port}`;
  const fix =
    e.code === 'EADDRINUSE'
      ? `another process is using ${where}: stop it, or choose another port (HES_GATE_PORT or server.port; simulator.port for the embedded simulator)`
      : e.code === 'EACCES'
        ? `permission denied to listen on ${where}: use a port from 1024 (HES_GATE_PORT) or give the service the CAP_NET_BIND_SERVICE capability`
        : e.code === 'EADDRNOTAVAIL'
          ? `${where} is not an address of this machine: set HES_GATE_HOST to one of its addresses, 127.0.0.1 or 0.0.0.0`
          : `cannot listen on ${where} (${e.code ?? 'error'}): check HES_GATE_HOST and HES_GATE_PORT`;
  return new HesGateError('HG_LISTEN', fix, { cause: err, details: { key: 'server.port' } });
}

/** Listen on host:port (port 0 still checks the address) and close again; the refusal serve would meet, or undefined. */
function probeListen(host: string, port: number): Promise<HesGateError | undefined> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (err) => done(listenError(err, host) ?? new HesGateError('HG_LISTEN', `cannot listen on ${host}:${port}: ${err.message}`, { cause: err, details: { key: 'server.port' } })));
    server.listen({ host, port, exclusive: true }, () => server.close(() => done(undefined)));
  });
}

/**
 * A CA file that is not PEM would make every ministry call fail its TLS handshake, and waiting
 * does not fix a file: refused at start like a file that cannot be read.
 */
function caProblem(key: string, file: string | null): HesGateError[] {
  if (file === null) return [];
  const unreadable = fileProblem(key, file);
  if (unreadable.length > 0) return unreadable;
  const text = readFileSync(resolve(file), 'latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  try {
    if (blocks.length === 0) throw new Error('no "-----BEGIN CERTIFICATE-----" block');
    for (const pem of blocks) new X509Certificate(pem);
    return [];
  } catch (err) {
    return [
      new HesGateError('HG_CONFIG_FILE', `${key} ${file} is not a PEM certificate (${(err as Error).message}): give the CA certificate in PEM form (openssl x509 -inform der -in ca.der -out ca.pem)`, {
        cause: err,
        details: { key },
      }),
    ];
  }
}

/**
 * What is worth saying before start but must not refuse it: the ministry's host does not resolve.
 * Name resolution can be down at boot (a station that refused would not decide at all, while
 * its outage policy could); the station starts, and /readyz shows the ministry down with the
 * reason until the name resolves.
 */
export async function startWarnings(config: Config, options: { lookup?: Lookup } = {}): Promise<string[]> {
  if (config.ministry.baseUrl === null) return [];
  const host = new URL(config.ministry.baseUrl).hostname.replace(/^\[|\]$/g, '');
  try {
    await (options.lookup ?? defaultLookup)(host);
    return [];
  } catch (err) {
    return [`ministry.baseUrl's host ${host} does not resolve here (${(err as NodeJS.ErrnoException).code ?? 'error'}): serve starts anyway and the outage policy decides until it resolves (check DNS or /etc/hosts)`];
  }
}

/** A station or hub needs the city's Redis and the city key. */
export function cityProblems(config: Config): HesGateError[] {
  const { city } = config;
  if (city.role === 'standalone' || city.role === 'vehicle') return [];
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
  problems.push(...caProblem('city.tlsCaFile', city.tlsCaFile));
  return problems;
}

/**
 * A hub publishing the vehicle list needs its two key files, and a horizon no vehicle outlives:
 * a `validUntil: null` holds until issuedAt + horizonMs, so a horizon shorter than the list age
 * vehicles may decide with would let a list outlive what it promised. Only a hub publishes: on
 * any other role the section would silently do nothing, so it is refused.
 */
export function vehiclesHubProblems(config: Config): HesGateError[] {
  const v = config.vehicles;
  if (!v.enabled) return [];
  const problems: HesGateError[] = [];
  if (config.city.role !== 'hub') {
    problems.push(new HesGateError('HG_CONFIG_INVALID', `vehicles.enabled is true but city.role is ${config.city.role}: only a hub publishes the vehicle list (set city.role hub, or vehicles.enabled false)`, { details: { key: 'vehicles.enabled' } }));
  }
  for (const [key, file, env] of [
    ['vehicles.listKeyFile', v.listKeyFile, 'HES_GATE_VEHICLES_LIST_KEY_FILE'],
    ['vehicles.signingKeyFile', v.signingKeyFile, 'HES_GATE_VEHICLES_SIGNING_KEY_FILE'],
  ] as const) {
    if (file === null) problems.push(new HesGateError('HG_CONFIG_INVALID', `vehicles.enabled is true but ${key} (${env}) is not set: create the list key and signing key with hes-gate vehicle keygen`, { details: { key } }));
    else problems.push(...fileProblem(key, file));
  }
  if (v.horizonMs < v.maxListAgeMs) {
    problems.push(new HesGateError('HG_CONFIG_INVALID', `vehicles.horizonMs (${v.horizonMs}) must be at least vehicles.maxListAgeMs (${v.maxListAgeMs}): a pass without its own end must hold as long as vehicles may use the list`, { details: { key: 'vehicles.horizonMs' } }));
  }
  if (v.snapshotEveryMs < v.publishEveryMs) {
    problems.push(new HesGateError('HG_CONFIG_INVALID', `vehicles.snapshotEveryMs (${v.snapshotEveryMs}) must be at least vehicles.publishEveryMs (${v.publishEveryMs})`, { details: { key: 'vehicles.snapshotEveryMs' } }));
  }
  return problems;
}

/**
 * A vehicle needs its hub's head URL, its fetch token, the list key and the hub's public key;
 * no Redis and no city key (those are refused nowhere: they are simply not used).
 */
export function vehicleRoleProblems(config: Config): HesGateError[] {
  if (config.city.role !== 'vehicle') return [];
  const v = config.vehicle;
  const problems: HesGateError[] = [];
  const required = (key: string, value: string | null, what: string): boolean => {
    if (value !== null) return true;
    problems.push(new HesGateError('HG_CONFIG_INVALID', `city.role is vehicle but ${key} is not set: ${what}`, { details: { key } }));
    return false;
  };
  required('vehicle.headUrl', v.headUrl, "the hub's GET /v1/vehicle-list/head URL, where the vehicle learns the newest list");
  required('vehicle.publicKey', v.publicKey, "the hub's list-signing public key (hes-gate vehicle keygen prints it at the hub)");
  if (required('vehicle.tokenFile', v.tokenFile, 'the file holding this vehicle\'s token (HES_GATE_VEHICLE_TOKEN_FILE; hes-gate vehicle add writes it at the hub)')) {
    problems.push(...fileProblem('vehicle.tokenFile', v.tokenFile));
  }
  if (required('vehicle.listKeyFile', v.listKeyFile, "the list key file, a copy of the hub's vehicles.listKeyFile")) {
    problems.push(...fileProblem('vehicle.listKeyFile', v.listKeyFile));
  }
  return problems;
}

/** Every reason `serve` would refuse to start with this configuration; empty when none. */
export async function startProblems(config: Config, options: StartCheckOptions): Promise<HesGateError[]> {
  const lookupFn = options.lookup ?? defaultLookup;
  const problems: HesGateError[] = [...credentialProblems(config), ...tokenProblems(config)];
  const server = await addressesOf('server.host', config.server.host, lookupFn);
  if (server instanceof HesGateError) problems.push(server);
  else problems.push(...exposureProblems(config, server));
  if (config.ministry.baseUrl === null) {
    const sim = await addressesOf('simulator.host', config.simulator.host, lookupFn);
    if (sim instanceof HesGateError) problems.push(sim);
    problems.push(...fileProblem('simulator.codesFile', config.simulator.codesFile));
  }
  problems.push(...caProblem('ministry.caFile', config.ministry.caFile));
  problems.push(...cityProblems(config));
  problems.push(...vehiclesHubProblems(config), ...vehicleRoleProblems(config));
  try {
    prepareDataDir(config.dataDir, { create: options.createDataDir });
  } catch (err) {
    if (!(err instanceof HesGateError)) throw err;
    problems.push(err);
  }
  if (options.probeListen === true && !(server instanceof HesGateError)) {
    const busy = await probeListen(config.server.host, config.server.port);
    if (busy !== undefined) problems.push(busy);
    if (config.ministry.baseUrl === null) {
      const sim = await probeListen(config.simulator.host, config.simulator.port);
      if (sim !== undefined) problems.push(new HesGateError(sim.code, sim.message, { cause: sim, details: { key: 'simulator.port' } }));
    }
  }
  return problems;
}
