/**
 * The simulator as the embedded ministry: what `serve`, `check` and `selftest` start when the
 * configuration names no ministry address. The ministry stage (ministry/target.ts) never imports
 * the simulator; the command that composes the service passes `startEmbeddedSimulator` in.
 */
import { isIP } from 'node:net';
import type { Config } from '../config/schema.js';
import { HesGateError } from '../errors.js';
import type { StartEmbeddedMinistry } from '../ministry/target.js';
import { checkControlToken } from './control.js';
import { SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from './server.js';

/** Loopback names and addresses: the only places the embedded simulator may listen. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
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

/** Starts the simulator the configuration's `simulator` section describes, after the checks above. */
export const startEmbeddedSimulator: StartEmbeddedMinistry<Simulator> = async (config, port) => {
  checkEmbeddedSimulator(config);
  const { host, codesFile, controlToken } = config.simulator;
  const simulator = await startSimulator({
    host,
    port,
    ...(codesFile === null ? {} : { codesFile }),
    ...(controlToken === null ? {} : { controlToken: controlToken.reveal() }),
  });
  return { server: simulator, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD };
};
