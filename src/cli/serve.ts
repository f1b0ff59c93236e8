import { loadConfig } from '../config/load.js';
import { startHesGate } from '../hes-gate.js';

/**
 * `hes-gate serve`: run until SIGTERM/SIGINT, then stop accepting, answer what is in flight,
 * close the ministry connections and devices, and exit 0.
 */
export async function serve(): Promise<void> {
  const loaded = loadConfig();
  const gate = await startHesGate(loaded);
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
