import { loadConfig } from '../config/load.js';
import { runSimulatorCli } from '../simulator/index.js';

/** `hes-gate simulate`: the ministry simulator alone, until SIGINT/SIGTERM. */
export async function simulate(opts: { host: string; port: string; codes?: string; tlsCert?: string; tlsKey?: string }): Promise<void> {
  // The control token is a secret: from HES_GATE_SIMULATOR_TOKEN(_FILE) through the configuration, never an argument.
  const token = loadConfig().config.simulator.controlToken;
  const sim = await runSimulatorCli({
    host: opts.host,
    port: Number(opts.port),
    codesFile: opts.codes,
    tlsCert: opts.tlsCert,
    tlsKey: opts.tlsKey,
    ...(token === null ? {} : { controlToken: token.reveal() }),
  });
  const stop = (): void => {
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
