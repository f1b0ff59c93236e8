/**
 * The station the configuration asks for: gates that list serial devices become one station
 * (devices/config.ts says which), with the device profiles of the configuration's `devices/`
 * folder. None when no gate lists a device.
 */
import type { Logger } from 'pino';
import { loadProfiles } from '../config/device-profiles.js';
import { profilesDir } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Clock, Credential, Decision } from '../types.js';
import { stationGates } from './config.js';
import { createStation, type Station } from './station.js';

export interface ConfiguredStationOptions {
  clock: Clock;
  logger: Logger;
  decide: (credential: Credential) => Promise<Decision>;
}

export function configuredStation(config: Readonly<Config>, o: ConfiguredStationOptions): Station | null {
  const gates = stationGates(config.gates.list);
  if (gates.length === 0) return null;
  return createStation({ gates, profiles: loadProfiles(profilesDir(config)), clock: o.clock, logger: o.logger.child({ component: 'devices' }), decide: o.decide });
}
