/**
 * The service's state as the live page shows it: the ministry, the status cache and the serial
 * devices, read from narrow readouts (sources.ts) once per snapshot while someone watches.
 */
import type { Clock } from '../types.js';
import type { DeviceStatus } from '../devices/events.js';
import type { CircuitSnapshot, MinistryHealthReadout, StatusCounts, StatusReadout } from './sources.js';

/** What operators see of one device: its link, never what it read. */
export interface LiveDevice {
  id: string;
  role: DeviceStatus['role'];
  gates: string[];
  path: string;
  profile: string;
  state: DeviceStatus['state'];
  /** When `state` last changed (epoch ms). */
  since: number;
  lastError: string | null;
  reopens: number;
  /** Readers: accepted reads. Controllers: commands sent. */
  count: number;
}

/** The service's state at one moment, as the status provider reports it. */
export interface LiveStatus {
  environment: 'simulator' | 'test' | 'live';
  ministry: {
    /** MinistryHealth's state: unknown, up, degraded, down, credentials-refused. */
    state: string;
    circuit: 'closed' | 'open' | 'half-open';
    lastError: string | null;
    lastSuccessAt: number | null;
    /** While the circuit is open: when the next probe may go (epoch ms); else 0. */
    openUntil: number;
    /** After a 429: when calls resume (epoch ms); else 0. */
    pausedUntil: number;
  };
  cache: {
    entries: number;
    /** Lookups answered from a fresh status, since start. */
    hits: number;
    /** Lookups that went to the ministry, since start. */
    misses: number;
    /** Lookups answered with a last-known status while the ministry could not answer, since start. */
    stale: number;
    /** Codes with a ministry call in flight. */
    inflight: number;
  };
  devices: LiveDevice[];
}

/** Where the status is read from (structural, so tests can pass plain objects). */
export interface LiveStatusSources {
  environment: LiveStatus['environment'];
  clock: Clock;
  ministryHealth: MinistryHealthReadout;
  guard: { snapshot(): Pick<CircuitSnapshot, 'state' | 'lastError' | 'openUntil' | 'pausedUntil'> };
  status: Pick<StatusReadout, 'size' | 'inflightCount'> & { readonly counters: Pick<StatusCounts, 'hits' | 'misses' | 'stale'> };
  /** Serial devices; absent or empty without a station. */
  devices?: () => readonly DeviceStatus[];
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
    };
  };
}
