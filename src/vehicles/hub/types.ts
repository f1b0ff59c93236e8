/**
 * The hub side of vehicles as others see it: what the routes are given (http/routes/vehicles.ts)
 * and what the metrics read (ops/vehicle-metrics.ts). Types only.
 */
import type { VehicleUpload } from '../../cards/vehicle-tables.js';
import type { DecisionRecord } from '../../journal/types.js';
import type { Clock } from '../../types.js';
import type { Authentication } from './vehicle-registry.js';

/** What the vehicle routes need: who a token is, the head, where files are, where uploads go. */
export interface VehicleServing {
  registry: { authenticate(token: string): Authentication; noteUpload(id: string, upload: VehicleUpload): Promise<void> };
  /** The exact text of head.json (`{"head":…,"signature":…}`); null while this hub does not publish. */
  head: () => string | null;
  /** The head for a vehicle holding version `after`: only the deltas it needs (publisher.ts headFor). */
  headFor: (after: number) => string | null;
  /** Where the list files are (vehicles.publishDir). */
  publishDir: string;
  /** Where uploaded records go; null when the journal is disabled (they are then answered as not journaled). */
  journal: { record(e: DecisionRecord): void } | null;
  clock: Clock;
}

/** The publisher's figures since start. */
export interface PublisherReport {
  publishing: boolean;
  version: number | null;
  issuedAt: number | null;
  /** Entries in the newest list built (null before the first build). */
  entries: number | null;
  versions: Record<'snapshot' | 'delta', number>;
  lastBytes: Record<'snapshot' | 'delta', number | null>;
  unchanged: number;
  failures: number;
  lastBuildMs: number | null;
}

/** What became of a push notice: acknowledged by the broker, refused, or not sent (no broker connected: the newest goes on reconnect). */
export type NoticeOutcome = 'sent' | 'failed' | 'deferred';

export interface NoticeReport {
  connected: boolean;
  outcomes: Record<NoticeOutcome, number>;
}

export interface VehicleHubReport {
  publisher: PublisherReport;
  /** null when no notice broker is configured (vehicles.mqtt.url). */
  notices: NoticeReport | null;
  vehicles: Array<{ id: string; revoked: boolean; lastUploadAt: number | null; lastListIssuedAt: number | null; lastListVersion: number | null }>;
  maxListAgeMs: number;
}
