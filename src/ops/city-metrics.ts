/**
 * City tier metrics (docs/city.md), read at scrape time from the replica's and the hub's status
 * reports. Labels are fixed enums (role, state): never a code, card id, node id or anything a
 * station wrote to Redis. A gauge whose figure is not known yet is absent, not 0.
 */
import { Counter, Gauge } from 'prom-client';
import type { CityState, HubStatusReport, ReconcileReport, RefusalReason, ReplicaStatusReport } from '../city/types.js';
import { KnownGauge, type Metrics } from './metrics.js';

export type CityRole = 'standalone' | 'station' | 'hub' | 'vehicle';

export const CITY_ROLES: readonly CityRole[] = ['standalone', 'station', 'hub', 'vehicle'];
export const CITY_STATES: readonly CityState[] = ['connecting', 'resyncing', 'live', 'degraded'];
export const CITY_REFUSALS: readonly RefusalReason[] = ['forged', 'replayed', 'revoked'];

export interface CityMetricsSources {
  role: CityRole;
  /** The node's replica report; null while there is none (standalone, or not started yet). */
  replica: () => ReplicaStatusReport | null;
  /** The hub's report; null on a station or standalone. */
  hub: () => HubStatusReport | null;
  /** Anti-entropy: this node's copy of the bindings against the city's digests; null while there is none. */
  reconcile?: () => ReconcileReport | null;
}

/** Milliseconds part of a stream entry id `<ms>-<seq>`; undefined for "0-0" or anything else. */
export function entryIdMs(id: string | null): number | undefined {
  if (id === null) return undefined;
  const m = /^(\d+)-\d+$/.exec(id);
  if (m === null) return undefined;
  const ms = Number(m[1]);
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** A counter that mirrors a total the report keeps (reset + inc, like the other readouts). */
function reportCounter(registry: Metrics['registry'], name: string, help: string, read: () => number | undefined): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      const v = read();
      if (v !== undefined) this.inc(v);
    },
  });
}

export function cityMetrics(metrics: Metrics, sources: CityMetricsSources): void {
  const registry = metrics.registry;
  const { role } = sources;
  new Gauge({
    name: 'hes_gate_city_info',
    help: 'Always 1; the role label says what this node is in its city (standalone, station, hub, vehicle).',
    labelNames: ['role'] as const,
    registers: [registry],
  }).set({ role }, 1);
  // Neither has a city tier: a vehicle's list has its own metrics (ops/on-board-metrics.ts).
  if (role === 'standalone' || role === 'vehicle') return;

  const replica = (): ReplicaStatusReport | null => sources.replica();
  const hub = (): HubStatusReport | null => sources.hub();

  // One series per state, always present (1 for the current one), like hes_gate_ministry_state.
  new Gauge({
    name: 'hes_gate_city_state',
    help: 'This node\'s city tier state: 1 for the current one (connecting, resyncing, live, degraded), 0 for the others; all 0 before the replica starts.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const s = replica()?.state;
      for (const state of CITY_STATES) this.labels(state).set(s === state ? 1 : 0);
    },
  });
  new KnownGauge({
    name: 'hes_gate_city_replication_lag_seconds',
    help: 'Seconds between the newest entry of the city change stream and the last one this node applied (0 when caught up).',
    registers: [registry],
    value: () => replica()?.lagSeconds,
  });
  new KnownGauge({
    name: 'hes_gate_city_replication_lag_entries',
    help: 'Change stream entries not yet applied by this node.',
    registers: [registry],
    value: () => replica()?.lagEntries,
  });
  new KnownGauge({
    name: 'hes_gate_city_last_applied_timestamp_seconds',
    help: 'When the last change stream entry this node applied was written (from its entry id), Unix seconds; absent before the first.',
    registers: [registry],
    value: () => {
      const ms = entryIdMs(replica()?.lastAppliedId ?? null);
      return ms === undefined ? undefined : ms / 1000;
    },
  });
  new Counter({
    name: 'hes_gate_city_snapshots_total',
    help: 'Resyncs from the city snapshot, by cause: trimmed (this node\'s position was trimmed from the stream), other (new node, new epoch or key).',
    labelNames: ['cause'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const r = replica();
      if (r === null) return;
      this.labels('trimmed').inc(r.snapshotsAfterTrim);
      this.labels('other').inc(Math.max(0, r.snapshots - r.snapshotsAfterTrim));
    },
  });
  reportCounter(registry, 'hes_gate_city_malformed_entries_total', 'City entries that did not open or parse (wrong city key, altered): counted and dropped.', () => replica()?.malformed);
  new Counter({
    name: 'hes_gate_city_entries_refused_total',
    help: 'City entries refused for whose word they carry, by reason (forged: no valid signature of a registered node, or a station speaking for a pass or as someone else; replayed: a sequence number seen before; revoked: signed by a revoked node) and where (replica: entries this node read; relay: nodes\' own lookups the lease holder read).',
    labelNames: ['reason', 'where'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const r = replica();
      const h = hub();
      for (const reason of CITY_REFUSALS) {
        if (r !== null) this.labels(reason, 'replica').inc(r.refused[reason]);
        // A relayed entry that did not open or named another node than its stream's is a forgery too.
        if (h !== null) this.labels(reason, 'relay').inc(h.relayRefused[reason] + (reason === 'forged' ? h.relayRefused.malformed : 0));
      }
    },
  });
  reportCounter(registry, 'hes_gate_city_entries_applied_total', 'Change stream entries this node applied (bindings and statuses batches).', () => replica()?.entriesApplied);
  reportCounter(registry, 'hes_gate_city_lookups_applied_total', 'Ministry answers other stations shared that this node applied.', () => replica()?.lookupsApplied);
  reportCounter(registry, 'hes_gate_city_lookups_shared_total', 'Ministry answers of this node\'s own taps it shared with the city.', () => replica()?.lookupsShared);
  const reconcile = (): ReconcileReport | null => sources.reconcile?.() ?? null;
  reportCounter(registry, 'hes_gate_city_reconcile_rounds_total', 'Comparisons of this node\'s copy of the bindings with the city\'s digest tree.', () => reconcile()?.rounds);
  reportCounter(registry, 'hes_gate_city_divergences_total', 'Comparisons that found this node\'s copy and the city different (each is repaired without an operator).', () => reconcile()?.divergences);
  reportCounter(registry, 'hes_gate_city_divergent_ranges_total', 'Digest leaves (key ranges) found different, over all comparisons.', () => reconcile()?.divergentRanges);
  reportCounter(registry, 'hes_gate_city_repaired_bindings_total', 'Bindings written or removed by repairs (in Redis on a hub, in the local replica on a station).', () => reconcile()?.repaired);
  reportCounter(registry, 'hes_gate_city_repaired_statuses_total', 'Statuses this node restored from its disk that the city answered otherwise, held as the city\'s answer (checked once per start).', () => reconcile()?.repairedStatuses);
  reportCounter(registry, 'hes_gate_city_reconcile_bytes_total', 'Bytes this node read from Redis to compare and repair (digests, leaves, values).', () => reconcile()?.bytesRead);
  new KnownGauge({
    name: 'hes_gate_city_last_agreement_timestamp_seconds',
    help: 'When this node last found its copy of the bindings equal to the city\'s digests, Unix seconds; absent before the first.',
    registers: [registry],
    value: () => {
      const at = reconcile()?.lastAgreementAt;
      return at === null || at === undefined ? undefined : at / 1000;
    },
  });

  if (role !== 'hub') return;
  new Gauge({
    name: 'hes_gate_city_lease_holder',
    help: '1 while this hub holds the city\'s refresher lease, 0 otherwise. sum() over the city\'s hubs is the number of holders (1 expected).',
    registers: [registry],
    collect() {
      this.set(hub()?.holding === true ? 1 : 0);
    },
  });
  new KnownGauge({
    name: 'hes_gate_city_lease_token',
    help: 'The fencing token of the lease this hub holds or last held (absent before the first).',
    registers: [registry],
    value: () => hub()?.token ?? undefined,
  });
  new KnownGauge({
    name: 'hes_gate_city_rotation_progress_ratio',
    help: 'Bound codes asked in the current city rotation / all bound codes (0..1); absent while standing by.',
    registers: [registry],
    value: () => hub()?.rotationProgress ?? undefined,
  });
  new KnownGauge({
    name: 'hes_gate_city_rotation_duration_seconds',
    help: 'Duration of the last complete city rotation over all bound codes (absent until one completes).',
    registers: [registry],
    value: () => {
      const ms = hub()?.lastRotationDurationMs;
      return ms === null || ms === undefined ? undefined : ms / 1000;
    },
  });
  new KnownGauge({
    name: 'hes_gate_city_rotation_calls',
    help: 'Bulk ministry calls the last complete city rotation made (absent until one completes).',
    registers: [registry],
    value: () => hub()?.callsLastRotation ?? undefined,
  });
  new KnownGauge({
    name: 'hes_gate_city_calls_per_second_budget',
    help: 'Bulk ministry calls per second the leader allows itself (from bound codes, RISKLESS freshness and the configured cap); absent while standing by.',
    registers: [registry],
    value: () => hub()?.callsPerSecond ?? undefined,
  });
  new Gauge({
    name: 'hes_gate_city_publish_queued',
    help: 'Status batches waiting for Redis to come back before they are published.',
    registers: [registry],
    collect() {
      this.set(hub()?.publishQueued ?? 0);
    },
  });
  reportCounter(registry, 'hes_gate_city_publish_dropped_total', 'Status batches dropped because the publish queue was full while Redis was away (stations catch up at the next rotation).', () => hub()?.publishDropped);
  reportCounter(registry, 'hes_gate_city_lookups_relayed_total', 'Nodes\' own lookups this hub relayed to every node while holding the lease (answers that make stations stricter).', () => hub()?.relayed);
  reportCounter(registry, 'hes_gate_city_lookup_hints_total', 'Stations\' RISKLESS lookups this hub took as hints (asked the ministry itself, never relayed).', () => hub()?.hints);
  reportCounter(registry, 'hes_gate_city_binding_statuses_asked_total', 'Codes this hub asked the ministry for in the write that bound them (a binding arrives with its status).', () => hub()?.statusesAsked);
  reportCounter(registry, 'hes_gate_city_binding_statuses_missing_total', 'Binding writes that went without some status (the ministry did not answer): the leader asks for those codes first.', () => hub()?.statusesMissing);
  reportCounter(registry, 'hes_gate_city_fenced_total', 'Status writes Redis refused because another hub holds a newer lease token (this hub stood down).', () => hub()?.fenced);
}
