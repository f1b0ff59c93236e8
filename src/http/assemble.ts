/**
 * The HTTP side of a running station, assembled in one place: admission, the app with its request
 * log, the parts' metrics (which read the admission and the app's refused connections too), the
 * readiness checks, the live page's history, and every route group (http/api.ts). The app is
 * ready to listen when this returns; listening is the caller's last step.
 *
 *   admission, app (request log) ─> part metrics ─> readiness checks, live history ─> routes
 */
import type { FastifyInstance } from 'fastify';
import type { CardSide } from '../cards/assemble.js';
import { cardWrites } from '../city/card-writes.js';
import type { CityTier } from '../city/index.js';
import type { Closers } from '../closers.js';
import type { Config } from '../config/schema.js';
import type { DecisionService } from '../decisions/decision-service.js';
import type { Station } from '../devices/station.js';
import type { Journal } from '../journal/journal.js';
import type { MinistrySide } from '../ministry/assemble.js';
import type { EventLoopMonitor } from '../ops/event-loop.js';
import type { LiveFeed } from '../ops/live-feed.js';
import { LiveHistorySource } from '../ops/live-history.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { MinistryHealth } from '../ops/ministry-health.js';
import { partMetrics } from '../ops/part-metrics.js';
import type { GatePolicy } from '../policy/types.js';
import type { Clock } from '../types.js';
import type { VehiclePublishing } from '../vehicles/hub/index.js';
import type { OnBoard } from '../vehicles/vehicle/on-board.js';
import { Admission } from './admission.js';
import { registerApi } from './api.js';
import { closeHttpApp, createHttpApp } from './app.js';
import { readinessChecks } from './readiness-checks.js';
import { logRequests } from './request-log.js';

/** The running parts the HTTP side serves and reports. */
export interface HttpSideSources {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  /** The app's close is added here, after the parts it reads (so it closes before them). */
  closers: Closers;
  version: string;
  policies: readonly GatePolicy[];
  ministry: Pick<MinistrySide, 'environment' | 'ministry' | 'address'> & { health: MinistryHealth };
  cards: CardSide;
  city: CityTier | null;
  vehicle: OnBoard | null;
  /** A hub publishing the vehicle list; null elsewhere. */
  vehicles: VehiclePublishing | null;
  journal: Journal | null;
  station: Station | null;
  devices: () => ReturnType<Station['status']>;
  eventLoop: EventLoopMonitor;
  metrics: Metrics;
  live: LiveFeed;
  decisions: DecisionService;
  /** A tapped card's code, refreshed first (status/refresh-first.ts). */
  noteTap: (code: string) => void;
}

export async function openHttpSide(s: HttpSideSources): Promise<FastifyInstance> {
  const { config, logger, clock, ministry, city, vehicle, vehicles, journal, station, devices, eventLoop, metrics, live } = s;
  const { environment } = ministry;
  const { cards, storeHealth, status, refresher } = s.cards;
  const admission = new Admission({ lagMs: () => eventLoop.lagMs(), waiting: () => status.inflightCount, maxEventLoopDelayMs: config.limits.maxEventLoopDelayMs, busy: () => eventLoop.utilization(), maxEventLoopUtilization: config.limits.maxEventLoopUtilization, busyShedFrom: Math.ceil(config.resilience.maxInFlight / 2), maxInFlight: config.limits.maxDecisionsInFlight });
  const app = createHttpApp({ bodyLimitBytes: config.server.bodyLimitBytes, logger, limits: config.limits });
  if (config.log.requests) logRequests(app, app.log as Logger);
  s.closers.add(() => closeHttpApp(app));
  partMetrics(metrics, {
    environment,
    cards: { countBindings: () => cards.bindingCount, refresher, storeUp: () => storeHealth.up() },
    city: { role: config.city.role, tier: city },
    vehicle: vehicle === null ? null : () => vehicle.report(),
    journal,
    station,
    overload: { eventLoop, admission },
    connections: app.connectionRefusals,
  });

  const checks = readinessChecks({ environment, policies: s.policies, store: storeHealth, eventLoop, admission, maxEventLoopDelayMs: config.limits.maxEventLoopDelayMs, ministry: { health: ministry.health, guard: ministry.ministry }, journal, address: ministry.address, devices, city, vehicle });
  const history = new LiveHistorySource({ journal, configuredGates: config.gates.list.map((g) => g.id), seenGates: () => live.gates(), clock });
  await registerApi(app, {
    version: s.version,
    clock,
    station: config.stationId,
    tokens: { admin: config.server.adminToken, api: config.server.apiToken },
    ops: { registry: metrics.registry, ...checks, devices },
    decisions: { decisions: s.decisions, admission },
    live: { feed: live, history: () => history.get() },
    journal,
    ...(vehicles === null ? {} : { vehicles: vehicles.routes }),
    cards: { store: cards, importBatchSize: 5000, ...cardWrites(city, { journal: (e) => cards.journal(e), clock, noteTap: s.noteTap, vehicle: vehicle !== null }) },
  });
  return app;
}
