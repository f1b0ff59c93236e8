/**
 * The composition root: builds a running hes-gate from a loaded configuration. Every adapter
 * (ministry client, stores, serial devices, HTTP) is created here and passed to the stages
 * that use it; nothing else constructs adapters or reads the environment.
 *
 *   config ─> logger, metrics
 *          ─> ministry target (ministry/target.ts: address or embedded simulator) ─> status service
 *          ─> card store ─> decision service ─> HTTP app, serial station, refresher
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { StoreHealth } from './cards/store-health.js';
import { openStationStore, type StationStore } from './cards/station-store.js';
import { hubBindingWriter, replicaBindingWriter } from './city/hub/writers.js';
import { startCityTier, type CityTier } from './city/index.js';
import { cityReadiness } from './city/readiness.js';
import { buildInfo } from './build-info.js';
import { Closers } from './closers.js';
import { loadProfiles } from './config/device-profiles.js';
import { profilesDir, type LoadedConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { DecisionService } from './decisions/decision-service.js';
import { longestRepeatTapWindow, RepeatTaps } from './decisions/repeat-taps.js';
import { stationGates } from './devices/config.js';
import { deviceReadiness } from './devices/readiness.js';
import { createStation, type Station } from './devices/station.js';
import { Admission } from './http/admission.js';
import { registerApi } from './http/api.js';
import { closeHttpApp, createHttpApp } from './http/app.js';
import { logRequests } from './http/request-log.js';
import { eventLoopCheck, informationalChecks } from './http/routes/ops.js';
import { Journal, openJournal } from './journal/journal.js';
import { journalReadiness } from './journal/readiness.js';
import { MinistryAddress } from './ministry/address-check.js';
import { probeTarget, type ProbeOutcome } from './ministry/credentials-probe.js';
import { GuardedMinistry, guardOptions } from './ministry/guard.js';
import { ministryReadiness } from './ministry/readiness.js';
import { statusCalls } from './ministry/status-calls.js';
import { openMinistryTarget, type MinistryEnvironment } from './ministry/target.js';
import { cardMetrics } from './ops/card-metrics.js';
import { cityMetrics } from './ops/city-metrics.js';
import { vehicleMetrics } from './ops/vehicle-metrics.js';
import { startVehiclePublishing } from './vehicles/hub/index.js';
import { deviceMetrics } from './ops/device-metrics.js';
import { environmentMetric } from './ops/environment-metric.js';
import { connectionMetrics } from './ops/connection-metrics.js';
import { EventLoopMonitor } from './ops/event-loop.js';
import { journalMetrics } from './ops/journal-metrics.js';
import { LiveFeed } from './ops/live-feed.js';
import { LiveHistorySource } from './ops/live-history.js';
import { liveStatusFrom } from './ops/live-status.js';
import { createLogger, type Logger } from './ops/logger.js';
import { controllerMetrics, createMetrics, overloadMetrics, type Metrics } from './ops/metrics.js';
import { MinistryHealth } from './ops/ministry-health.js';
import { logCircuit, logDevices, logMinistryTarget, logProbe, logRefresher, ministryCallObserver } from './ops/part-logs.js';
import { FALLBACK_DECISION } from './policy/decide.js';
import { allPolicies, gateLookup, needsPlusFields, outageFallbackArmed } from './policy/gate-lookup.js';
import { startEmbeddedSimulator } from './simulator/embedded.js';
import type { Simulator } from './simulator/index.js';
import { createRefresher, type Refresher } from './status/refresher.js';
import { refreshFirst } from './status/refresh-first.js';
import { StatusService } from './status/status-service.js';
import type { AnswerHook } from './status/types.js';
import type { Clock } from './types.js';

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
  close(): Promise<void>;
}

/** The live page's event-loop readout: the overload monitor's window, read only while a page watches. */
const pick = (w: { maxMs: number; p99Ms: number }): { maxMs: number; p99Ms: number } => ({ maxMs: w.maxMs, p99Ms: w.p99Ms });

export async function startHesGate(loaded: LoadedConfig, options: StartOptions = {}): Promise<HesGate> {
  const { config } = loaded;
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? createLogger(config.log.level, undefined, config.stationId);
  const closers = new Closers();
  const close = async (): Promise<void> => {
    logger.info({ event: 'stop' }, 'hes-gate stopping');
    await closers.closeAll((err) => logger.error({ err }, 'error while closing'));
  };

  // The environment is named once the ministry target is known (`ready`): the embedded simulator is never `live`.
  const build = buildInfo();
  logger.info({ event: 'start', version: build.version }, 'hes-gate starting');
  try {
    const target = await openMinistryTarget(config, { embedded: startEmbeddedSimulator });
    closers.add(() => target.close());
    const { environment, simulator } = target;
    logMinistryTarget(logger, target);
    // A ministry host that does not resolve does not stop the station (DNS may be down at boot):
    // logged once, shown on /readyz until it resolves (README: what serve refuses at start, and why not this).
    const address =
      simulator === null
        ? new MinistryAddress({
            baseUrl: target.baseUrl,
            onUnresolved: (host, code) => logger.warn({ event: 'config.problem', key: 'ministry.baseUrl', error: code }, `the ministry host ${host} does not resolve (${code}): the outage policy decides until it does`),
            onResolved: (host) => logger.info({ host }, 'ministry host resolves now'),
          })
        : null;
    if (address !== null) {
      void address.start();
      closers.add(() => address.close());
    }

    const ministryHealth = new MinistryHealth();
    let metrics: Metrics | undefined;
    let feed: LiveFeed | undefined;
    const client = target.createClient({ clock, onCall: ministryCallObserver({ logger, clock, health: ministryHealth, environment, sinks: () => [metrics, feed] }) });
    const ministry = new GuardedMinistry(client, guardOptions(config, clock));
    logCircuit(logger, clock, ministry);
    closers.add(() => ministry.close());

    // One health rule for /readyz and card_store_up (cards/store-health.ts).
    const storeHealth = new StoreHealth({ clock, read: () => cards.getBinding('00000000'), countBindings: () => cards.bindingCount });
    const cards = await openStationStore({
      dataDir: resolve(config.dataDir),
      clock,
      onWriteError: (err) => {
        storeHealth.writeFailed();
        logger.error({ err }, 'card store: statuses were not persisted');
      },
    });
    closers.add(() => cards.close());

    const policies = allPolicies(config.gates);
    const plus = needsPlusFields(policies);
    const calls = statusCalls(ministry, plus);
    // A station shares its taps' ministry answers with its city (set once the city tier runs).
    let shareAnswer: AnswerHook | undefined;
    const status = new StatusService({
      ...config.cache,
      ministry: calls.single,
      clock,
      persistence: cards,
      ...(config.city.role === 'standalone' ? {} : { onAnswer: (code, answer, at) => shareAnswer?.(code, answer, at) }),
    });
    closers.add(() => status.drain());
    logger.info({ bindings: cards.bindingCount, restoredStatuses: status.restore(config.city.role !== 'standalone') }, 'card store open');

    const refresher = createRefresher({
      store: cards,
      ministry: calls,
      sink: status,
      clock,
      budgetCallsPerSecond: config.refresher.callsPerSecond,
      backoff: { initialMs: config.refresher.backoffInitialMs, maxMs: config.refresher.backoffMaxMs },
    });
    logRefresher(logger, refresher);
    closers.add(() => refresher.stop());

    const city = await startCityTier({ config, store: cards, status, ministry: calls, clock, logger });
    if (city !== null) {
      closers.add(() => city.close());
      shareAnswer = (code, answer, at) => city.replica.sharer.share(code, answer, at);
    }
    const noteTap = refreshFirst(refresher, city);

    metrics = createMetrics({ status, ministryHealth, clock, guard: ministry, gates: config.gates.list.map((g) => g.id), build: { version: build.version, commit: build.commit.slice(0, 12) + (build.dirty ? '-modified' : '') } });
    cardMetrics(metrics, () => cards.bindingCount, refresher, () => storeHealth.up());
    environmentMetric(metrics, environment);
    cityMetrics(metrics, { role: config.city.role, replica: () => city?.replicaReport() ?? null, hub: () => city?.hubReport() ?? null, reconcile: () => city?.reconcileReport() ?? null });

    const journal = await openJournal(config, clock, (err) => logger.error({ event: 'journal.error', err }, 'decision journal failed: decisions go on unrecorded'));
    if (journal !== null) closers.add(() => journal.close());
    journalMetrics(metrics, journal);

    // A hub with vehicles.enabled publishes the vehicle list while it holds the lease (vehicles/hub).
    const hub = city?.hub ?? null;
    const vehicles = config.vehicles.enabled && hub !== null ? await startVehiclePublishing({ config, store: cards, lease: hub.lease, journal, logger, clock }) : null;
    if (vehicles !== null) {
      closers.add(() => vehicles.close());
      vehicleMetrics(metrics, { report: () => vehicles.report(), clock });
    }

    const eventLoop = new EventLoopMonitor();
    let station: Station | null = null;
    // How late the loop runs: decisions shorten their ministry wait by it, admission sheds on it.
    eventLoop.start();
    closers.add(() => eventLoop.stop());
    const devices = (): ReturnType<Station['status']> => station?.status() ?? [];
    const cityReports = city === null ? undefined : { role: city.role, replica: () => city.replicaReport(), hub: () => city.hubReport() };
    const live = new LiveFeed({
      clock,
      status: liveStatusFrom({ environment, clock, ministryHealth, guard: ministry, status, devices, loopDelay: { snapshot: () => pick(eventLoop.window()) }, ...(cityReports === undefined ? {} : { city: cityReports }) }),
      onError: (err) => logger.error({ err }, 'live feed: status snapshot failed'),
    });
    feed = live;
    const m = metrics;
    const decisions = new DecisionService({
      status,
      gates: gateLookup(config.gates),
      clock,
      repeatTaps: new RepeatTaps({ holdMs: longestRepeatTapWindow(config.gates), clock }),
      bindings: cards,
      onCardTap: noteTap,
      lateness: () => eventLoop.timerLagMs(),
      onDecision: (e) => {
        m.decision(e);
        live.decision(e);
        journal?.record(e);
      },
    });

    // Serial readers and gate controllers: gates that list devices become a station.
    const stationGateList = stationGates(config.gates.list);
    if (stationGateList.length > 0) {
      const st = createStation({
        gates: stationGateList,
        profiles: loadProfiles(profilesDir(config)),
        clock,
        logger: logger.child({ component: 'devices' }),
        decide: async (credential) => (await decisions.decide(credential)) ?? FALLBACK_DECISION,
      });
      station = st;
      deviceMetrics(metrics, st);
      controllerMetrics(metrics, st);
      st.on('tap', (e) => live.tap(e));
      logDevices(logger, st);
      closers.add(() => st.stop());
    }

    const admission = new Admission({ lagMs: () => eventLoop.lagMs(), waiting: () => status.inflightCount, maxEventLoopDelayMs: config.limits.maxEventLoopDelayMs, maxInFlight: config.limits.maxDecisionsInFlight });
    overloadMetrics(metrics, { eventLoop, admission });
    const app = createHttpApp({ bodyLimitBytes: config.server.bodyLimitBytes, logger, limits: config.limits });
    connectionMetrics(metrics, app.connectionRefusals);
    if (config.log.requests) logRequests(app, app.log as Logger);
    closers.add(() => closeHttpApp(app));

    const readiness = [
      { name: 'config', check: () => ({ ok: true, detail: `${environment} environment` }) },
      storeHealth.readiness(),
      { name: 'event loop', check: () => eventLoopCheck(eventLoop.window(), config.limits.maxEventLoopDelayMs, Math.min(...policies.map((p) => p.deadlineMs)), admission.loopSheds()) },
      ministryReadiness({ health: ministryHealth, guard: ministry, fallbackArmed: outageFallbackArmed(policies) }),
    ];
    const informational = informationalChecks(
      journalReadiness(journal),
      ...(address === null ? [] : [() => address.readiness()]),
      deviceReadiness(devices),
      ...(city === null ? [] : [cityReadiness(() => city.replicaReport(), () => city.hubReport())]),
    );
    const history = new LiveHistorySource({ journal, configuredGates: config.gates.list.map((g) => g.id), seenGates: () => live.gates(), clock });
    await registerApi(app, {
      version: build.version,
      clock,
      station: config.stationId,
      tokens: { admin: config.server.adminToken, api: config.server.apiToken },
      ops: { registry: metrics.registry, readiness, informational, devices },
      decisions: { decisions, admission },
      live: { feed: live, history: () => history.get() },
      journal,
      ...(vehicles === null ? {} : { vehicles: vehicles.routes }),
      cards: {
        store: cards,
        importBatchSize: 5000,
        // In a city, a hub writes bindings to the city's registry and a station refuses them.
        ...(city === null ? {} : { writer: city.hub === null ? replicaBindingWriter() : hubBindingWriter({ registry: city.hub.registry, journal: (e) => cards.journal(e), clock }) }),
        // A new or changed binding is refreshed first, so its first tap finds a fresh status. A hub
        // asked the ministry in the write itself (and notes what it did not get): nothing to add.
        onChange: (e) => {
          if (e.action === 'put' && (city === null || city.hub === null)) noteTap(e.hesCode);
        },
      },
    });

    if (station !== null) await station.start();
    // In a city, the lease holder refreshes (city/hub); the station's own refresher stays off.
    if (config.refresher.enabled && city === null) refresher.start();

    // Sent before listening and not awaited: a refusal shows in /readyz and the log at once,
    // while the station already answers. The embedded simulator's credentials are its own.
    const credentialsProbe = logProbe(logger, environment, probeTarget(target, statusCalls(client, plus).single));

    const url = options.listen === false ? (await app.ready(), null) : await app.listen({ host: config.server.host, port: config.server.port });
    logger.info({ event: 'ready', url, environment, gates: config.gates.list.length }, url === null ? 'hes-gate is ready' : 'hes-gate is serving');
    return { config, environment, app, url, decisions, status, ministry, ministryHealth, metrics, logger, simulator, station, cards, refresher, live, journal, city, credentialsProbe, close };
  } catch (err) {
    await close();
    throw err;
  }
}
