/**
 * Every part's metrics on one registry, registered in one place once the parts exist: the card
 * store and refresher, the ministry environment, the city tier, the journal, the serial devices,
 * overload and the HTTP edge's connection refusals. Each reads its part at scrape time through
 * a narrow shape (sources.ts and the metric modules' own), so this module acts on nothing.
 */
import type { HubStatusReport, ReconcileReport, ReplicaStatusReport } from '../city/types.js';
import { cardMetrics } from './card-metrics.js';
import { cityMetrics, type CityRole } from './city-metrics.js';
import { connectionMetrics, type ConnectionRefusalsReadout } from './connection-metrics.js';
import { deviceMetrics } from './device-metrics.js';
import { environmentMetric } from './environment-metric.js';
import type { OnBoardReport } from '../vehicles/vehicle/on-board-types.js';
import { journalMetrics, type JournalReadout } from './journal-metrics.js';
import { onBoardMetrics } from './on-board-metrics.js';
import { controllerMetrics, overloadMetrics, type ControllerStatusSource, type Metrics, type OverloadSources } from './metrics.js';
import type { DevicesReadout, RefresherReadout } from './sources.js';

/** The city tier's reports (city/index.ts's CityTier satisfies it). */
export interface CityReadout {
  replicaReport(): ReplicaStatusReport;
  hubReport(): HubStatusReport | null;
  reconcileReport(): ReconcileReport;
}

export interface PartSources {
  environment: string;
  cards: { countBindings: () => number; refresher: RefresherReadout; storeUp: () => boolean };
  city: { role: CityRole; tier: CityReadout | null };
  /** A vehicle's on-board report (city.role vehicle); null elsewhere. */
  vehicle: (() => OnBoardReport) | null;
  journal: JournalReadout | null;
  /** The serial devices; null without a station. */
  station: (DevicesReadout & ControllerStatusSource) | null;
  overload: OverloadSources;
  connections: ConnectionRefusalsReadout;
}

export function partMetrics(metrics: Metrics, s: PartSources): void {
  cardMetrics(metrics, s.cards.countBindings, s.cards.refresher, s.cards.storeUp);
  environmentMetric(metrics, s.environment);
  const tier = s.city.tier;
  cityMetrics(metrics, { role: s.city.role, replica: () => tier?.replicaReport() ?? null, hub: () => tier?.hubReport() ?? null, reconcile: () => tier?.reconcileReport() ?? null });
  journalMetrics(metrics, s.journal);
  if (s.vehicle !== null) onBoardMetrics(metrics, s.vehicle);
  if (s.station !== null) {
    deviceMetrics(metrics, s.station);
    controllerMetrics(metrics, s.station);
  }
  overloadMetrics(metrics, s.overload);
  connectionMetrics(metrics, s.connections);
}
