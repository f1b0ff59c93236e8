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
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { HesGateError } from '../errors.js';
import type { Clock } from '../types.js';
import { createMinistryClient } from './client.js';
import { SIMULATOR_PASSWORD, SIMULATOR_USER } from './simulator-credentials.js';
import type { MinistryCallEvent, MinistryClient } from './types.js';

export type MinistryEnvironment = Config['environment'];

export interface MinistryTarget<E extends EmbeddedMinistry = EmbeddedMinistry> {
  /** The environment actually spoken to (`simulator` whenever the embedded simulator answers). */
  readonly environment: MinistryEnvironment;
  /** Base URL with the environment's path prefix. */
  readonly baseUrl: string;
  /** The user name sent (the simulator's own on the simulator); null when unset. */
  readonly user: string | null;
  /** Whether a user name and a password are both set (calls are refused otherwise). */
  readonly credentialsSet: boolean;
  /** The embedded simulator, when it is the target. */
  readonly simulator: E | null;
  /** A client for this target, with the configuration's pool size, timeouts and CA. */
  createClient(hooks?: { onCall?: (e: MinistryCallEvent) => void; clock?: Clock }): MinistryClient;
  /** Stops the embedded simulator, if any (clients are closed by their owners). */
  close(): Promise<void>;
}

export interface MinistryTargetOptions<E extends EmbeddedMinistry> {
  /**
   * Port of an embedded simulator. One-off commands pass 0, so they never collide with a
   * station serving on the same machine. @default config.simulator.port
   */
  simulatorPort?: number;
  /**
   * Starts the embedded simulator when the configuration names no ministry. The ministry stage
   * never imports the simulator: the command that composes the service passes
   * `startEmbeddedSimulator` (simulator/embedded.ts). Without it, a configuration with no
   * ministry address is refused.
   */
  embedded?: StartEmbeddedMinistry<E>;
}

/** A ministry started in this process (the simulator), as the client needs it. */
export interface EmbeddedMinistry {
  /** Base URL with the test prefix, trailing slash. */
  readonly url: string;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** Checks the configuration's `simulator` section and starts the simulator it describes on `port`, with the credentials it accepts. */
export type StartEmbeddedMinistry<E extends EmbeddedMinistry> = (
  config: Pick<Config, 'ministry' | 'simulator'>,
  port: number,
) => Promise<{ server: E; user: string; password: string }>;

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

/** Chooses the ministry (starting the embedded simulator when there is no address). */
export async function openMinistryTarget<E extends EmbeddedMinistry = EmbeddedMinistry>(config: Config, options: MinistryTargetOptions<E> = {}): Promise<MinistryTarget<E>> {
  const m = config.ministry;
  // Read once, at start: a missing CA file fails here with its coded error, not on the first tap.
  const ca = m.caFile === null ? undefined : readCa(m.caFile);
  const clientFor = (baseUrl: string, user: string, password: string): MinistryTarget<E>['createClient'] => (hooks = {}) =>
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

  if (options.embedded === undefined) {
    throw new HesGateError('HG_CONFIG_INVALID', 'ministry.baseUrl is not set and this command starts no embedded simulator: set ministry.baseUrl', {
      details: { key: 'ministry.baseUrl', expected: 'a ministry address' },
    });
  }
  const { server, user, password } = await options.embedded(config, options.simulatorPort ?? config.simulator.port);
  return {
    environment: ministryEnvironment(config),
    baseUrl: server.url,
    user,
    credentialsSet: true,
    simulator: server,
    createClient: clientFor(server.url, user, password),
    close: () => server.close(),
  };
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(resolve(file));
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `ministry.caFile ${file} could not be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}
