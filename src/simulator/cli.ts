/**
 * `hes-gate simulate`: runs the simulator in the foreground and tells the operator where it is.
 * The password is never printed: the simulator's default is documented (README, "Simulator").
 */
import { readFileSync } from 'node:fs';
import { HesGateError } from '../errors.js';
import { SIMULATOR_USER, startSimulator, type Simulator } from './server.js';

export interface SimulatorCliOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 8089 */
  port?: number;
  /** JSON file of sample codes instead of the bundled set. */
  codesFile?: string;
  /** PEM certificate and key files: both for HTTPS, neither for HTTP. */
  tlsCert?: string;
  tlsKey?: string;
  /** Bearer token for the control API; without one the control API is off. */
  controlToken?: string;
  /** Where the lines go. @default console.log */
  print?: (line: string) => void;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `the TLS ${what} file ${path} could not be read`, { cause: err });
  }
}

/** Starts the simulator and prints its addresses; the caller closes it (for example on SIGINT). */
export async function runSimulatorCli(options: SimulatorCliOptions = {}): Promise<Simulator> {
  const print = options.print ?? console.log;
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new HesGateError('HG_CONFIG_INVALID', 'HTTPS needs both a certificate (--tls-cert) and a key (--tls-key)');
  }
  const tls =
    options.tlsCert === undefined || options.tlsKey === undefined
      ? undefined
      : { cert: readPem(options.tlsCert, 'certificate'), key: readPem(options.tlsKey, 'key') };
  const sim = await startSimulator({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8089,
    ...(options.codesFile === undefined ? {} : { codesFile: options.codesFile }),
    ...(tls === undefined ? {} : { tls }),
    ...(options.controlToken === undefined ? {} : { controlToken: options.controlToken }),
  });
  const codes = sim.codes().length;
  print('HES G2G ministry simulator (sample codes, no real data)');
  print(`  test base URL  ${sim.url}`);
  print(`  live base URL  ${sim.liveUrl}`);
  print(`  user           ${SIMULATOR_USER} (password: the simulator's documented default; not a ministry credential)`);
  print(`  codes          ${codes} ${options.codesFile === undefined ? 'bundled sample codes' : `from ${options.codesFile}`}`);
  print(
    options.controlToken === undefined
      ? '  control API    off (set HES_GATE_SIMULATOR_TOKEN to switch faults over HTTP)'
      : `  control API    ${sim.origin}/_simulator/faults, /_simulator/counts, /_simulator/codes (loopback clients, bearer HES_GATE_SIMULATOR_TOKEN)`,
  );
  return sim;
}
