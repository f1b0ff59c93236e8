/**
 * A vehicle's own metrics (city.role vehicle), read at scrape time from its on-board report
 * (vehicles/vehicle/on-board.ts). Labels are the fixed refusal reasons; a gauge whose figure is
 * not known yet (no list held, journal off) is absent, not 0. The hub's view of its vehicles
 * (last upload, version, age) is the hub's metrics.
 */
import { Counter, Gauge } from 'prom-client';
import type { RefusalReason } from '../vehicles/list/types.js';
import type { NoticeTaken, OnBoardReport } from '../vehicles/vehicle/on-board-types.js';
import { KnownGauge, type Metrics } from './metrics.js';

/** One series per reason, always present (the list the list's contract names). */
const REFUSALS: readonly RefusalReason[] = ['signature', 'tampered', 'replayed', 'mismatch', 'malformed'];
const NOTICES_TAKEN: readonly NoticeTaken[] = ['poll', 'coalesced', 'stale', 'malformed'];

export function onBoardMetrics(metrics: Metrics, report: () => OnBoardReport): void {
  const registers = [metrics.registry];
  new KnownGauge({
    name: 'hes_gate_vehicle_list_version',
    help: 'The vehicle list version this vehicle decides card taps from (absent before any).',
    registers,
    value: () => report().list.version ?? undefined,
  });
  new KnownGauge({
    name: 'hes_gate_vehicle_list_age_seconds',
    help: 'Age of the vehicle list held, on the signed clock (past vehicle.maxListAgeMs the outage policy decides card taps).',
    registers,
    value: () => {
      const age = report().listAgeMs;
      return age === null ? undefined : age / 1000;
    },
  });
  new KnownGauge({
    name: 'hes_gate_vehicle_list_cards',
    help: 'Cards on the vehicle list held (absent before any).',
    registers,
    value: () => report().list.count ?? undefined,
  });
  new Gauge({
    name: 'hes_gate_vehicle_clock_behind_seconds',
    help: "How far this vehicle's clock is behind the newest signed list time it verified (decisions use the signed time; 0 when not behind).",
    registers,
    collect() {
      this.set(report().clockBehindMs / 1000);
    },
  });
  new Counter({
    name: 'hes_gate_vehicle_list_refused_total',
    help: 'Vehicle list heads and files refused, by reason (signature, tampered, replayed, mismatch, malformed).',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      this.reset();
      const refused = report().list.refused;
      for (const reason of REFUSALS) this.inc({ reason }, refused.get(reason) ?? 0);
    },
  });
  new Counter({
    name: 'hes_gate_vehicle_list_fetched_bytes_total',
    help: 'Bytes of vehicle list heads and files received from the hub and list servers.',
    registers,
    collect() {
      this.reset();
      this.inc(report().list.bytesFetched);
    },
  });
  new KnownGauge({
    name: 'hes_gate_vehicle_uploads_pending',
    help: 'Journal records not yet acknowledged by the hub (as of the last upload round; absent when the journal is off).',
    registers,
    value: () => report().uploads?.pending,
  });
  new Counter({
    name: 'hes_gate_vehicle_notices_total',
    help: 'Push notices received, by outcome: poll (a head poll now), coalesced (joined a poll at the end of the rate limit), stale (a version held), malformed (not a notice). Absent without vehicle.mqtt.url.',
    labelNames: ['outcome'] as const,
    registers,
    collect() {
      this.reset();
      const n = report().notices;
      if (n !== null) for (const outcome of NOTICES_TAKEN) this.inc({ outcome }, n.taken[outcome]);
    },
  });
}
