/**
 * The service's state as the live page shows it: the ministry, the status cache and the serial
 * devices, read from narrow readouts (sources.ts) once per snapshot while someone watches.
 */
import type { Clock } from '../types.js';
import type { DeviceStatus } from '../devices/events.js';
import type { LiveStatus } from './live-wire.js';
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
    };
  };
}
