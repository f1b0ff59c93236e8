/**
 * Which ministry hes-gate speaks to, decided in one place for `serve`, `check` and `selftest`:
 * the configured address with the configured credentials, or — when `ministry.baseUrl` is
 * null — the embedded simulator on loopback with its own credentials.
 *
 *   config.ministry.baseUrl ── set ──> that address, ministry.user/password, config.environment
 *                           └─ null ─> simulator on loopback, its own user, environment `simulator`
 *
 * The effective environment is decided here too: with the simulator answering — embedded, or
 * `hes-gate simulate` reached with its own credentials — it is `simulator` whatever the
 * configuration (or HES_GATE_ENVIRONMENT, or the address's path) says, so no log line, page,
 * metric, readiness detail or selftest report can present the simulator as the ministry.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { HesGateError } from '../errors.js';
import { checkControlToken, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../simulator/index.js';
import type { Clock } from '../types.js';
import { createMinistryClient } from './client.js';
import type { MinistryCallEvent, MinistryClient } from './types.js';

export type MinistryEnvironment = Config['environment'];

export interface MinistryTarget {
  /** The environment actually spoken to (`simulator` whenever the embedded simulator answers). */
  readonly environment: MinistryEnvironment;
  /** Base URL with the environment's path prefix. */
  readonly baseUrl: string;
  /** The user name sent (the simulator's own on the simulator); null when unset. */
  readonly user: string | null;
  /** Whether a user name and a password are both set (calls are refused otherwise). */
  readonly credentialsSet: boolean;
  /** The embedded simulator, when it is the target. */
  readonly simulator: Simulator | null;
  /** A client for this target, with the configuration's pool size, timeouts and CA. */
  createClient(hooks?: { onCall?: (e: MinistryCallEvent) => void; clock?: Clock }): MinistryClient;
  /** Stops the embedded simulator, if any (clients are closed by their owners). */
  close(): Promise<void>;
}

export interface MinistryTargetOptions {
  /**
   * Port of an embedded simulator. One-off commands pass 0, so they never collide with a
   * station serving on the same machine. @default config.simulator.port
   */
  simulatorPort?: number;
}

/** Loopback names and addresses: the only places the embedded simulator may listen. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Whether the configured credentials are the simulator's own (published in the README): no
 * ministry accepts them, and `hes-gate simulate` accepts no others, so the address answers as the
 * simulator whatever its path (`…/g2g/saglik/hes/` is its live path too) or label say.
 */
export function usesSimulatorCredentials(ministry: Pick<Config['ministry'], 'user' | 'password'>): boolean {
  return ministry.user === SIMULATOR_USER && ministry.password?.reveal() === SIMULATOR_PASSWORD;
}

/** The environment a configuration speaks to, before anything is started. */
export function ministryEnvironment(config: Pick<Config, 'environment' | 'ministry'>): MinistryEnvironment {
  if (config.ministry.baseUrl === null || usesSimulatorCredentials(config.ministry)) return 'simulator';
  return config.environment;
}

/**
 * Refuses an embedded simulator that would listen beyond loopback, or a guessable control token
 * (HG_CONFIG_INVALID naming the key). `serve` and `config check` both call it, so they refuse the same thing.
 */
export function checkEmbeddedSimulator(config: Pick<Config, 'ministry' | 'simulator'>): void {
  const { host, controlToken } = config.simulator;
  if (config.ministry.baseUrl !== null) return;
  if (controlToken !== null) checkControlToken(controlToken.reveal());
  if (isLoopbackHost(host)) return;
  throw new HesGateError(
    'HG_CONFIG_INVALID',
    `simulator.host must be a loopback address (127.0.0.1, ::1 or localhost), got ${JSON.stringify(host.slice(0, 40))}: ` +
      'the embedded simulator answers with made-up statuses and must never be reachable as a ministry; set ministry.baseUrl to use a real one',
    { details: { key: 'simulator.host', expected: 'a loopback address' } },
  );
}

/** Chooses the ministry (starting the embedded simulator when there is no address). */
export async function openMinistryTarget(config: Config, options: MinistryTargetOptions = {}): Promise<MinistryTarget> {
  const m = config.ministry;
  // Read once, at start: a missing CA file fails here with its coded error, not on the first tap.
  const ca = m.caFile === null ? undefined : readCa(m.caFile);
  const clientFor = (baseUrl: string, user: string, password: string): MinistryTarget['createClient'] => (hooks = {}) =>
    createMinistryClient({
      baseUrl,
      user,
      password,
      connections: m.connections,
      connectTimeoutMs: m.connectTimeoutMs,
      headersTimeoutMs: m.headersTimeoutMs,
      bodyTimeoutMs: m.bodyTimeoutMs,
      ...(ca === undefined ? {} : { ca }),
      ...(hooks.onCall === undefined ? {} : { onCall: hooks.onCall }),
      ...(hooks.clock === undefined ? {} : { clock: hooks.clock }),
    });

  if (m.baseUrl !== null) {
    const password = m.password?.reveal() ?? null;
    return {
      environment: ministryEnvironment(config),
      baseUrl: m.baseUrl,
      user: m.user,
      credentialsSet: m.user !== null && password !== null,
      simulator: null,
      createClient: clientFor(m.baseUrl, m.user ?? '', password ?? ''),
      close: async () => {},
    };
  }

  checkEmbeddedSimulator(config);
  const { host, codesFile, controlToken } = config.simulator;
  const simulator = await startSimulator({
    host,
    port: options.simulatorPort ?? config.simulator.port,
    ...(codesFile === null ? {} : { codesFile }),
    ...(controlToken === null ? {} : { controlToken: controlToken.reveal() }),
  });
  return {
    environment: ministryEnvironment(config),
    baseUrl: simulator.url,
    user: SIMULATOR_USER,
    credentialsSet: true,
    simulator,
    createClient: clientFor(simulator.url, SIMULATOR_USER, SIMULATOR_PASSWORD),
    close: () => simulator.close(),
  };
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(resolve(file));
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `ministry.caFile ${file} could not be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}
