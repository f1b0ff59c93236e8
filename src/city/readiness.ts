/**
 * The city tier's `/readyz` entry. Informational: a station decides from its local replica, so
 * it is ready whatever the city tier does — `degraded` (Redis away, key wrong) is a state an
 * operator sees here and in the metrics, not a reason to take the station out of service.
 */
import type { ReadinessCheck } from '../types.js';
import type { HubStatusReport, ReplicaStatusReport } from './types.js';

const seconds = (s: number): string => (s < 10 ? s.toFixed(1) : s.toFixed(0));

/** One line an operator can act on: state, why, lag, snapshots, and the lease on a hub. */
export function cityDetail(replica: ReplicaStatusReport | null, hub: HubStatusReport | null): string {
  const parts: string[] = [];
  if (replica === null) parts.push('replica not started');
  else {
    parts.push(replica.reason === null ? replica.state : `${replica.state} (${replica.reason})`);
    parts.push(`lag ${seconds(replica.lagSeconds)} s, ${replica.lagEntries} entries`);
    parts.push(`last applied ${replica.lastAppliedId ?? 'none'}`);
    parts.push(`${replica.snapshots} snapshots (${replica.snapshotsAfterTrim} after trim)`);
    if (replica.malformed > 0) parts.push(`${replica.malformed} malformed entries dropped`);
  }
  if (hub !== null) {
    if (hub.holding) {
      const progress = hub.rotationProgress === null ? '' : `, rotation ${Math.round(hub.rotationProgress * 100)}%`;
      parts.push(`holds the refresher lease (token ${hub.token ?? '?'})${progress}`);
    } else parts.push(hub.leaseHolder === null ? 'standing by: no lease holder' : `standing by: lease held by ${hub.leaseHolder}`);
    if (hub.fenced > 0) parts.push(`${hub.fenced} writes fenced`);
    if (hub.publishDropped > 0) parts.push(`${hub.publishDropped} status batches dropped`);
  }
  return parts.join('; ');
}

/**
 * The `city` check for `OpsRoutesOptions.informational`, given the two report getters (null
 * while there is no replica or no hub). `ok` is false only while the node is not live, so the
 * entry reads as a warning; the route never counts it towards readiness.
 */
export function cityReadiness(replica: () => ReplicaStatusReport | null, hub: () => HubStatusReport | null): () => ReadinessCheck[] {
  return () => [
    {
      name: 'city',
      check: () => {
        const r = replica();
        return { ok: r?.state === 'live', detail: cityDetail(r, hub()) };
      },
    },
  ];
}
