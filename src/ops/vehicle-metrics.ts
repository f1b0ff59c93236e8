/**
 * A hub's vehicle metrics (docs/vehicles.md), read at scrape time from the publisher's and the
 * registry's report. The one label beyond fixed enums is `vehicle`: the id an operator gave the
 * vehicle at `hes-gate vehicle add` (a bus or ferry number, like a station id), never personal
 * data. Revoked vehicles are not shown: their list is meant to age.
 */
import { Counter, Gauge } from 'prom-client';
import type { Clock } from '../types.js';
import type { NoticeOutcome, VehicleHubReport } from '../vehicles/hub/types.js';
import { KnownGauge, type Metrics } from './metrics.js';

export interface VehicleMetricsSources {
  report: () => VehicleHubReport;
  clock: Clock;
}

const KINDS = ['snapshot', 'delta'] as const;
const NOTICE_OUTCOMES: readonly NoticeOutcome[] = ['sent', 'failed', 'deferred'];

export function vehicleMetrics(metrics: Metrics, sources: VehicleMetricsSources): void {
  const registry = metrics.registry;
  const pub = (): VehicleHubReport['publisher'] => sources.report().publisher;
  new Gauge({
    name: 'hes_gate_vehicles_publishing',
    help: '1 while this hub publishes the vehicle list (it holds the refresher lease), 0 otherwise.',
    registers: [registry],
    collect() {
      this.set(pub().publishing ? 1 : 0);
    },
  });
  new Counter({
    name: 'hes_gate_vehicles_list_versions_total',
    help: 'Vehicle list versions this hub published since start, by the file that carries each (snapshot, delta).',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const p = pub();
      for (const kind of KINDS) this.labels(kind).inc(p.versions[kind]);
    },
  });
  new Gauge({
    name: 'hes_gate_vehicles_list_file_bytes',
    help: 'Size of the last list file published, by kind (snapshot, delta); absent before the first of that kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const p = pub();
      for (const kind of KINDS) {
        const b = p.lastBytes[kind];
        if (b !== null) this.labels(kind).set(b);
      }
    },
  });
  new KnownGauge({ name: 'hes_gate_vehicles_list_entries', help: 'Entries (bound cards) in the newest vehicle list built.', registers: [registry], value: () => pub().entries ?? undefined });
  new KnownGauge({ name: 'hes_gate_vehicles_list_version', help: 'The newest vehicle list version this hub published (or restored at start).', registers: [registry], value: () => pub().version ?? undefined });
  new KnownGauge({
    name: 'hes_gate_vehicles_list_build_seconds',
    help: 'How long the last vehicle list build took in its worker (read, fingerprint, sort, encode, sign, write).',
    registers: [registry],
    value: () => {
      const ms = pub().lastBuildMs;
      return ms === null ? undefined : ms / 1000;
    },
  });
  new Counter({
    name: 'hes_gate_vehicles_list_builds_failed_total',
    help: 'Vehicle list builds that published nothing because they failed (the store, the disk, a key); the log says why.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(pub().failures);
    },
  });
  new Gauge({
    name: 'hes_gate_vehicles_max_list_age_seconds',
    help: 'vehicles.maxListAgeMs in seconds: the list age above which HesGateVehicleListStale fires.',
    registers: [registry],
    collect() {
      this.set(sources.report().maxListAgeMs / 1000);
    },
  });
  /** Per registered vehicle that is not revoked: seconds since one of its times; absent while that time is unknown. */
  const sinceByVehicle = (name: string, help: string, at: (v: VehicleHubReport['vehicles'][number]) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: ['vehicle'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const now = sources.clock();
        for (const v of sources.report().vehicles) {
          const t = at(v);
          if (!v.revoked && t !== null) this.labels(v.id).set(Math.max(0, now - t) / 1000);
        }
      },
    });
  };
  sinceByVehicle(
    'hes_gate_vehicles_list_age_seconds',
    'Per registered vehicle: now minus the issue time of the list version its last upload said it decides from (grows while it is offline); absent before its first upload.',
    (v) => v.lastListIssuedAt,
  );
  sinceByVehicle('hes_gate_vehicles_since_upload_seconds', 'Per registered vehicle: seconds since its last store-and-forward upload reached this hub; absent before the first.', (v) => v.lastUploadAt);
  new Counter({
    name: 'hes_gate_vehicles_notices_total',
    help: 'Push notices of a new vehicle list version, by outcome: sent (the broker acknowledged it), failed (refused), deferred (no broker connected: the newest is sent on reconnect). Absent without vehicles.mqtt.url.',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const n = sources.report().notices;
      if (n !== null) for (const outcome of NOTICE_OUTCOMES) this.labels(outcome).inc(n.outcomes[outcome]);
    },
  });
  new KnownGauge({
    name: 'hes_gate_vehicles_notice_broker_up',
    help: '1 while the push-notice broker (vehicles.mqtt.url) is connected, 0 otherwise; absent without one.',
    registers: [registry],
    value: () => {
      const n = sources.report().notices;
      return n === null ? undefined : n.connected ? 1 : 0;
    },
  });
}
