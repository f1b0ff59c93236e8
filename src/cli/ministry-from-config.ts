import type { Config } from '../config/schema.js';
import { createMinistryClient } from '../ministry/client.js';
import { ministryClientOptions } from '../ministry/from-config.js';
import type { MinistryCallEvent, MinistryClient } from '../ministry/types.js';
import { SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator } from '../simulator/index.js';

/**
 * A ministry client for one-off operator commands (check, selftest): the configured service,
 * or a simulator started for the command when the configuration has no base URL.
 */
export async function ministryFromConfig(
  config: Config,
  onCall?: (e: MinistryCallEvent) => void,
): Promise<{ ministry: MinistryClient; environment: string; baseUrl: string; close: () => Promise<void> }> {
  if (config.ministry.baseUrl === null) {
    const sim = await startSimulator({ host: '127.0.0.1', port: 0, codesFile: config.simulator.codesFile ?? undefined });
    const ministry = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD, onCall });
    return {
      ministry,
      environment: 'simulator',
      baseUrl: sim.url,
      close: async () => {
        await ministry.close();
        await sim.close();
      },
    };
  }
  const ministry = createMinistryClient(
    ministryClientOptions(config, {
      baseUrl: config.ministry.baseUrl,
      user: config.ministry.user ?? '',
      password: config.ministry.password?.reveal() ?? '',
      onCall,
    }),
  );
  return { ministry, environment: config.environment, baseUrl: config.ministry.baseUrl, close: () => ministry.close() };
}
