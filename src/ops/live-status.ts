/**
 * The service's state as the live page shows it: the ministry, the status cache and the serial
 * devices, read from narrow readouts (sources.ts) once per snapshot while someone watches.
 */
import type { Clock } from '../types.js';
import type { DeviceStatus } from '../devices/events.js';
import type { CityState, HubStatusReport, ReplicaStatusReport } from '../city/types.js';
import type { LiveCity, LiveStatus } from './live-wire.js';
import { entryIdMs } from './city-metrics.js';
import type { CircuitSnapshot, LoopDelayReadout, MinistryHealthReadout, StatusCounts, StatusReadout } from './sources.js';

/** Where the status is read from (structural, so tests can pass plain objects). */
export interface LiveStatusSources {
  environment: LiveStatus['environment'];
  clock: Clock;
  ministryHealth: MinistryHealthReadout;
  guard: { snapshot(): Pick<CircuitSnapshot, 'state' | 'lastError' | 'openUntil' | 'pausedUntil'> };
  status: Pick<StatusReadout, 'size' | 'inflightCount'> & { readonly counters: Pick<StatusCounts, 'hits' | 'misses' | 'stale'> };
  /** Serial devices; absent or empty without a station. */
  devices?: () => readonly DeviceStatus[];
  /** Event-loop delay; absent when not measured. */
  loopDelay?: LoopDelayReadout;
  /** The city tier's reports; absent on a standalone station. */
  city?: LiveCitySources;
}

export interface LiveCitySources {
  role: 'station' | 'hub';
  replica: () => ReplicaStatusReport | null;
  hub: () => HubStatusReport | null;
}

// The page's copy of the state names must stay the replica's (a compile error here when they drift).
const sameStates: [CityState, NonNullable<LiveCity['state']>] extends [NonNullable<LiveCity['state']>, CityState] ? true : never = true;
void sameStates;

/** The city card's data: O(1). */
export function liveCity(c: LiveCitySources): LiveCity {
  const r = c.replica();
  const h = c.role === 'hub' ? c.hub() : null;
  return {
    role: c.role,
    state: r?.state ?? null,
    reason: r?.reason ?? null,
    lagSeconds: r?.lagSeconds ?? 0,
    lagEntries: r?.lagEntries ?? 0,
    lastAppliedAt: entryIdMs(r?.lastAppliedId ?? null) ?? null,
    snapshots: r?.snapshots ?? 0,
    hub:
      h === null
        ? null
        : { holding: h.holding, leaseHolder: h.leaseHolder, token: h.token, rotationProgress: h.rotationProgress, lastRotationDurationMs: h.lastRotationDurationMs, fenced: h.fenced },
  };
}

/** A status provider for LiveFeed. Every read is O(devices). */
export function liveStatusFrom(s: LiveStatusSources): () => LiveStatus {
  return () => {
    const g = s.guard.snapshot();
    const c = s.status.counters;
    return {
      environment: s.environment,
      ministry: {
        state: s.ministryHealth.state,
        circuit: g.state,
        lastError: s.ministryHealth.lastError ?? g.lastError,
        lastSuccessAt: s.ministryHealth.lastSuccessAt,
        openUntil: g.state === 'open' ? g.openUntil : 0,
        pausedUntil: g.pausedUntil > s.clock() ? g.pausedUntil : 0,
      },
      cache: { entries: s.status.size, hits: c.hits, misses: c.misses, stale: c.stale, inflight: s.status.inflightCount },
      devices: (s.devices?.() ?? []).map((d) => ({
        id: d.id,
        role: d.role,
        gates: [...d.gates],
        path: d.path,
        profile: d.profile,
        state: d.state,
        since: d.since,
        lastError: d.lastError ?? null,
        reopens: d.reopens,
        count: d.count,
      })),
      ...(s.loopDelay === undefined ? {} : { loop: s.loopDelay.snapshot() }),
      ...(s.city === undefined ? {} : { city: liveCity(s.city) }),
    };
  };
}
