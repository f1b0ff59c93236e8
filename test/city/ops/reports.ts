/** Sample city status reports and a bare metrics registry, for the operations tests. */
import { Registry } from 'prom-client';
import type { HubStatusReport, ReplicaStatusReport } from '../../../src/city/types.js';
import type { Metrics } from '../../../src/ops/metrics.js';

export function replicaReport(over: Partial<ReplicaStatusReport> = {}): ReplicaStatusReport {
  return {
    state: 'live',
    reason: null,
    lastAppliedId: '1764531200123-4',
    lagSeconds: 0.25,
    lagEntries: 3,
    snapshots: 3,
    snapshotsAfterTrim: 1,
    malformed: 2,
    entriesApplied: 40,
    lookupsApplied: 7,
    lookupsShared: 5,
    refused: { forged: 1, replayed: 0, revoked: 0 },
    ...over,
  };
}

export function hubReport(over: Partial<HubStatusReport> = {}): HubStatusReport {
  return {
    leaseHolder: 'hub-a',
    holding: true,
    token: 12,
    rotationProgress: 0.5,
    lastRotationDurationMs: 420_000,
    callsLastRotation: 200,
    callsPerSecond: 0.4,
    publishQueued: 1,
    publishDropped: 0,
    fenced: 2,
    relayed: 4,
    hints: 3,
    relayRefused: { forged: 1, replayed: 0, revoked: 1, malformed: 0 },
    statusesAsked: 20,
    statusesMissing: 0,
    ...over,
  };
}

/** A Metrics with only a registry: city metrics need nothing else. */
export function bareMetrics(): Metrics {
  const registry = new Registry();
  return { registry, decision() {}, ministryCall() {}, addCollector: (fn) => fn(registry) };
}

