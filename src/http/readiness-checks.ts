/**
 * What /readyz shows, in its order: the checks that make the service ready (the configuration,
 * the card store, the event loop, the ministry) and those shown for operators only (the journal,
 * the ministry's address, the serial devices, the city tier). Each concept's rule lives with the
 * concept (cards/store-health.ts, ministry/readiness.ts, …); this module only lists them.
 */
import type { HubStatusReport, ReplicaStatusReport } from '../city/types.js';
import { cityReadiness } from '../city/readiness.js';
import type { DeviceStatus } from '../devices/events.js';
import { deviceReadiness } from '../devices/readiness.js';
import { journalReadiness, type JournalHealth } from '../journal/readiness.js';
import { ministryReadiness, type MinistryReadinessSources } from '../ministry/readiness.js';
import type { GatePolicy } from '../policy/types.js';
import { outageFallbackArmed } from '../policy/gate-lookup.js';
import type { ReadinessCheck } from '../types.js';
import { eventLoopCheck, informationalChecks } from './routes/ops.js';

export interface ReadinessSources {
  environment: string;
  policies: readonly GatePolicy[];
  /** The card store's health (cards/store-health.ts). */
  store: { readiness(): ReadinessCheck };
  eventLoop: { window(): Parameters<typeof eventLoopCheck>[0] };
  /** Decisions shed for a lagging loop (http/admission.ts). */
  admission: { loopSheds(): { sinceMs: number | null; total: number } };
  maxEventLoopDelayMs: number;
  ministry: Omit<MinistryReadinessSources, 'fallbackArmed'>;
  journal: JournalHealth | null;
  /** The ministry host's resolution; null with the embedded simulator. */
  address: { readiness(): ReadinessCheck[] } | null;
  devices: () => readonly DeviceStatus[];
  /** The city tier; null when standalone. */
  city: { replicaReport(): ReplicaStatusReport; hubReport(): HubStatusReport | null } | null;
}

export function readinessChecks(s: ReadinessSources): { readiness: ReadinessCheck[]; informational: () => ReadinessCheck[] } {
  const { address, city } = s;
  const readiness = [
    { name: 'config', check: () => ({ ok: true, detail: `${s.environment} environment` }) },
    s.store.readiness(),
    { name: 'event loop', check: () => eventLoopCheck(s.eventLoop.window(), s.maxEventLoopDelayMs, Math.min(...s.policies.map((p) => p.deadlineMs)), s.admission.loopSheds()) },
    ministryReadiness({ ...s.ministry, fallbackArmed: outageFallbackArmed(s.policies) }),
  ];
  const informational = informationalChecks(
    journalReadiness(s.journal),
    ...(address === null ? [] : [() => address.readiness()]),
    deviceReadiness(s.devices),
    ...(city === null ? [] : [cityReadiness(() => city.replicaReport(), () => city.hubReport())]),
  );
  return { readiness, informational };
}
