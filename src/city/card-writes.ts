/**
 * Where the card admin API's writes go and what a change asks for, by city role:
 *
 *   standalone ─> the local store; a new or changed binding is refreshed first, so its first
 *                 tap finds a fresh status
 *   station    ─> refused (HG_CITY_REPLICA): change bindings at a hub; a put arriving anyway
 *                 is noted like standalone's (the hook stays role-blind)
 *   hub        ─> the city's registry (hub/writers.ts), journaled in this node's admin journal;
 *                 the hub asked the ministry in the write itself: nothing to note
 *   vehicle    ─> refused (HG_CITY_REPLICA): it decides card taps from its hub's signed list,
 *                 a binding written on board would be ignored by every tap
 */
import type { JournalInput } from '../cards/store-types.js';
import type { Clock } from '../types.js';
import type { CityTier } from './index.js';
import { hubBindingWriter, replicaBindingWriter, type BindingWriter } from './hub/writers.js';

export interface CardWrites {
  /** Absent: the routes write to the local store. */
  writer?: BindingWriter;
  onChange(e: { action: string; hesCode?: string }): void;
}

export interface CardWritesOptions {
  /** This node's admin journal (the local store's). */
  journal: (entry: JournalInput) => Promise<void>;
  clock: Clock;
  /** The tap's "refresh me first" (status/refresh-first.ts). */
  noteTap: (code: string) => void;
  /** This node is a vehicle (city.role vehicle; it has no city tier). */
  vehicle?: boolean;
}

export function cardWrites(city: Pick<CityTier, 'hub'> | null, o: CardWritesOptions): CardWrites {
  const noteNew = (e: { action: string; hesCode?: string }): void => {
    if (e.action === 'put' && e.hesCode !== undefined) o.noteTap(e.hesCode);
  };
  if (o.vehicle === true) return { writer: replicaBindingWriter('vehicle'), onChange: () => undefined };
  if (city === null) return { onChange: noteNew };
  if (city.hub === null) return { writer: replicaBindingWriter(), onChange: noteNew };
  return { writer: hubBindingWriter({ registry: city.hub.registry, journal: o.journal, clock: o.clock }), onChange: () => undefined };
}
