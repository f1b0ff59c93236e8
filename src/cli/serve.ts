import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { listenError, startProblems } from '../config/start-checks.js';
import { HesGateError } from '../errors.js';
import type { HesGate } from '../hes-gate.js';

/**
 * An error from starting the service as one coded line with the next step. Errors that are
 * already coded pass through; system errors from listening get HG_LISTEN; anything else is
 * left alone (an unexpected failure, shown with its stack by the command line).
 */
export function startError(err: unknown, config: Config): unknown {
  if (err instanceof HesGateError) return err;
  return listenError(err, config.server.host) ?? err;
}

/**
 * `hes-gate serve`: refuse to start (one coded line, exit 2) when a start check fails, else run
 * until SIGTERM/SIGINT, then stop accepting, answer what is in flight, close the ministry
 * connections and devices, and exit 0.
 */
export async function serve(): Promise<void> {
  const loaded = loadConfig();
  const [problem, ...more] = await startProblems(loaded.config, { createDataDir: true });
  if (problem !== undefined) {
    if (more.length === 0) throw problem;
    const others = `${more.length} more problem${more.length === 1 ? '' : 's'} (${more.map((p) => p.code).join(', ')}): hes-gate config check lists them`;
    throw new HesGateError(problem.code, `${problem.message}; ${others}`, { cause: problem, ...(problem.details === undefined ? {} : { details: problem.details }) });
  }
  let gate: HesGate;
  try {
    // Loaded after the checks: a refusal is reported without loading the whole service.
    const { startHesGate } = await import('../hes-gate.js');
    gate = await startHesGate(loaded);
  } catch (err) {
    throw startError(err, loaded.config);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    gate.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      gate.logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    gate.close().then(
      () => {
        gate.logger.info('stopped');
        gate.logger.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        gate.logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
