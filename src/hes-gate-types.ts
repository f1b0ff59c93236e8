/**
 * What starting hes-gate takes and gives back: the options of `startHesGate` (hes-gate.ts) and
 * the running service, with each part it assembled, for `serve`, the tests and the benchmarks.
 */
import type { FastifyInstance } from 'fastify';
import type { StationStore } from './cards/station-store.js';
import type { CityTier } from './city/index.js';
import type { Config } from './config/schema.js';
import type { DecisionService } from './decisions/decision-service.js';
import type { Station } from './devices/station.js';
import type { Journal } from './journal/journal.js';
import type { ProbeOutcome } from './ministry/credentials-probe.js';
import type { GuardedMinistry } from './ministry/guard.js';
import type { MinistryEnvironment } from './ministry/target.js';
import type { LiveFeed } from './ops/live-feed.js';
import type { Logger } from './ops/logger.js';
import type { Metrics } from './ops/metrics.js';
import type { MinistryHealth } from './ops/ministry-health.js';
import type { Simulator } from './simulator/index.js';
import type { Refresher } from './status/refresher.js';
import type { StatusService } from './status/status-service.js';
import type { Clock } from './types.js';
import type { OnBoard } from './vehicles/vehicle/on-board.js';

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** Listen (default true); tests may use `app.inject()` instead. */
  listen?: boolean;
}

export interface HesGate {
  config: Readonly<Config>;
  /** The ministry environment actually spoken to: `simulator` whenever the embedded simulator answers. */
  environment: MinistryEnvironment;
  app: FastifyInstance;
  /** The service's own address, when listening. */
  url: string | null;
  decisions: DecisionService;
  status: StatusService;
  ministry: GuardedMinistry;
  ministryHealth: MinistryHealth;
  metrics: Metrics;
  logger: Logger;
  /** The embedded simulator, when the configuration has no ministry base URL. */
  simulator: Simulator | null;
  /** Serial readers and gate controllers, when gates list devices. */
  station: Station | null;
  /** Card bindings and persisted statuses (SQLite in `dataDir`). */
  cards: StationStore;
  /** Keeps bound codes fresh with bulk calls. */
  refresher: Refresher;
  /** The operators' live feed behind GET /live. */
  live: LiveFeed;
  /**
   * The start-up credentials probe (a configured ministry only; the embedded simulator's are its
   * own). Started before listening and never awaited by start-up; never rejects.
   */
  credentialsProbe: Promise<ProbeOutcome | 'skipped'>;
  /** The decision journal (null when journal.enabled is false). */
  journal: Journal | null;
  /** The city tier (docs/city.md); null when standalone. */
  city: CityTier | null;
  /** On a vehicle (city.role vehicle): its list, signed clock and uploader; null elsewhere. */
  vehicle: OnBoard | null;
  close(): Promise<void>;
}
