/**
 * Which gates this station drives, on which serial ports: the one mapping from the validated
 * configuration (`gates.list`, see src/config/gates.ts) to the station's gates. `serve` and
 * `hes-gate devices` both use it, so the listing shows what the running station does.
 */
import type { ControllerConfig, GateConfig, ReaderConfig } from '../config/schema.js';
import { gatesFrom } from '../config/gates.js';
import { POLICY_DEFAULTS } from '../config/settings.js';
import type { Profiles } from '../config/device-profiles.js';

export type { ControllerConfig, ReaderConfig } from '../config/schema.js';

export interface StationGateConfig {
  id: string;
  group: string;
  readers: readonly ReaderConfig[];
  controller?: ControllerConfig;
  /** Time from a read to the gate command, in ms; a decision not ready by then is a deny. */
  deadlineMs: number;
}

/**
 * The station's deny-after-deadline timer fires this long after the gate's decision deadline:
 * a backstop only, since the decision itself already answers within the deadline.
 */
export const STATION_BACKSTOP_MS = 25;

/** The gates of `list` that have serial devices, as the station runs them. */
export function stationGates(list: readonly GateConfig[]): readonly StationGateConfig[] {
  return Object.freeze(
    list
      .filter((g) => g.readers.length > 0 || g.controller !== null)
      .map((g) =>
        Object.freeze({
          id: g.id,
          group: g.group,
          deadlineMs: g.policy.deadlineMs + STATION_BACKSTOP_MS,
          readers: g.readers,
          ...(g.controller === null ? {} : { controller: g.controller }),
        }),
      ),
  );
}

/**
 * Station gates from a `gates.list` value, validated as the configuration file would be (for
 * tests and benchmarks that build a station without a file). Throws HG_CONFIG_INVALID.
 */
export function parseStationGates(list: unknown, profiles: Profiles | null = null): readonly StationGateConfig[] {
  return stationGates(gatesFrom(list, POLICY_DEFAULTS, 'gates.list', profiles));
}
