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
import type { Config } from './config/schema.js';
import type { LoadedConfig } from './config/load.js';
import { createLogger, type Logger } from './ops/logger.js';
import { controllerMetrics, createMetrics, overloadMetrics, type Metrics } from './ops/metrics.js';
import { EventLoopMonitor } from './ops/event-loop.js';
import { Admission } from './http/admission.js';
import { MinistryHealth } from './ops/ministry-health.js';
import { openMinistryTarget, type MinistryEnvironment } from './ministry/target.js';
import { GuardedMinistry } from './ministry/guard.js';
import { ministryReadiness } from './ministry/readiness.js';
import { MinistryAddress } from './ministry/address-check.js';
import { statusCalls } from './ministry/status-calls.js';
import { probeCredentials, type ProbeOutcome } from './ministry/credentials-probe.js';
import type { MinistryCallEvent } from './ministry/types.js';
import { StatusService } from './status/status-service.js';
import { DecisionService } from './decisions/decision-service.js';
import { longestRepeatTapWindow, RepeatTaps } from './decisions/repeat-taps.js';
import { createHttpApp } from './http/app.js';
import { decisionRoutes } from './http/routes/decisions.js';
import { eventLoopCheck, opsRoutes } from './http/routes/ops.js';
import type { Simulator } from './simulator/index.js';
import type { Clock } from './types.js';
import { profilesDir } from './config/load.js';
import { loadProfiles } from './devices/profiles.js';
import { stationGates } from './devices/config.js';
import { createStation, type Station } from './devices/station.js';
import { deviceMetrics } from './ops/device-metrics.js';
import { LiveFeed } from './ops/live-feed.js';
import { liveStatusFrom } from './ops/live-status.js';
import { liveRoutes } from './http/routes/live.js';
import { operatorToken } from './http/auth.js';
import { openStationStore, type StationStore } from './cards/station-store.js';
import { createRefresher, type Refresher } from './status/refresher.js';
import { cardRoutes } from './http/routes/cards.js';
import { cardMetrics } from './ops/card-metrics.js';
import { environmentMetric } from './ops/environment-metric.js';
import { connectionMetrics } from './ops/connection-metrics.js';
import { allPolicies, gateLookup, needsPlusFields, outageFallbackArmed } from './policy/gate-lookup.js';
import { FALLBACK_DECISION } from './policy/decide.js';
import { storeReadiness } from './cards/readiness.js';
import { deviceReadiness } from './devices/readiness.js';
import { registerOpenApi } from './http/openapi.js';
import { buildInfo } from './build-info.js';
import { Journal } from './journal/journal.js';
import { journalReadiness } from './journal/readiness.js';
import { journalMetrics } from './ops/journal-metrics.js';
import { journalRoutes } from './http/routes/journal.js';
import { LiveHistorySource } from './ops/live-history.js';
import { logRequests } from './http/request-log.js';
import { startCityTier, type CityTier } from './city/index.js';
import { cityMetrics } from './ops/city-metrics.js';
import { cityReadiness } from './city/readiness.js';
import { informationalChecks } from './http/routes/ops.js';
import type { AnswerHook } from './city/types.js';
import { hubBindingWriter, replicaBindingWriter } from './city/hub/writers.js';

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

export async function startHesGate(loaded: LoadedConfig, options: StartOptions = {}): Promise<HesGate> {
  const { config } = loaded;
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? createLogger(config.log.level, undefined, config.stationId);
  const closers: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    logger.info({ event: 'stop' }, 'hes-gate stopping');
    for (const fn of closers.reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.error({ err }, 'error while closing');
      }
    }
  };

  // The environment is named once the ministry target is known (`ready`): the embedded simulator is never `live`.
  logger.info({ event: 'start', version: buildInfo().version }, 'hes-gate starting');
  try {
    // The ministry: a real address, or the embedded simulator over loopback HTTP.
    const target = await openMinistryTarget(config);
    closers.push(() => target.close());
    const { environment, simulator } = target;
    if (simulator !== null) {
      logger.info({ baseUrl: target.baseUrl, environment }, 'ministry: embedded simulator (sample codes, no real data)');
    } else {
      logger.info({ baseUrl: target.baseUrl, environment, user: target.user === null ? null : 'set', password: target.credentialsSet ? 'set' : 'unset' }, 'ministry: remote service');
    }
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
      closers.push(() => address.close());
    }
    if (!target.credentialsSet) {
      logger.warn({ event: 'config.problem', key: 'ministry.user' }, 'ministry credentials are not set (HES_GATE_MINISTRY_USER, HES_GATE_MINISTRY_PASSWORD or _FILE): every call will be refused');
    }

    const ministryHealth = new MinistryHealth();
    let metrics: Metrics | undefined;
    let live: LiveFeed | undefined;
    const onCall = (e: MinistryCallEvent): void => {
      const before = ministryHealth.state;
      ministryHealth.record(e, clock());
      const after = ministryHealth.state;
      if (after !== before) {
        const log = after === 'up' ? logger.info.bind(logger) : logger.warn.bind(logger);
        log({ event: 'ministry.state', from: before, to: after, error: after === 'up' ? null : ministryHealth.lastError }, `ministry ${after}`);
      }
      metrics?.ministryCall(e);
      live?.ministryCall(e);
      // Once per refusal, not per call: after the probe or the first refused tap, readiness says it.
      if (e.outcome === 'HG_MINISTRY_AUTH' && before !== 'credentials-refused') {
        logger.error({ endpoint: e.endpoint, environment }, 'the ministry refused the credentials: check HES_GATE_MINISTRY_USER and the password for this environment');
      }
    };
    const client = target.createClient({ onCall, clock });
    const ministry = new GuardedMinistry(client, {
      clock,
      ...config.resilience,
      callBudgetMs: config.ministry.connectTimeoutMs + config.ministry.headersTimeoutMs,
    });
    ministry.on('state', (e: { from: string; to: string; reason: string; openUntil: number }) => {
      const log = e.to === 'open' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ event: 'circuit.state', from: e.from, to: e.to, reason: e.reason, retryInMs: Math.max(0, e.openUntil - clock()) }, `ministry circuit ${e.to}`);
    });
    ministry.on('paused', (e: { until: number }) => logger.warn({ pauseMs: e.until - clock() }, 'the ministry asked to slow down (429): pausing calls'));
    closers.push(() => ministry.close());

    // A failed write marks the store down for a minute (card_store_up, the card-store alert).
    let storeWriteFailedAt = Number.NEGATIVE_INFINITY;
    const cards = await openStationStore({
      dataDir: resolve(config.dataDir),
      clock,
      onWriteError: (err) => {
        storeWriteFailedAt = clock();
        logger.error({ err }, 'card store: statuses were not persisted');
      },
    });
    closers.push(() => cards.close());
    /** At scrape time: no write failed in the last minute, and an indexed read answers. */
    const storeUp = (): boolean => {
      if (clock() - storeWriteFailedAt < 60_000) return false;
      try {
        cards.getBinding('00000000');
        return true;
      } catch {
        return false;
      }
    };

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
    closers.push(() => status.drain());
    const restored = status.restore();
    logger.info({ bindings: cards.bindingCount, restoredStatuses: restored }, 'card store open');

    // Bound codes are refreshed in bulk; what it learns is persisted for the outage policy.
    const refresher = createRefresher({
      store: cards,
      ministry: calls,
      sink: status,
      clock,
      budgetCallsPerSecond: config.refresher.callsPerSecond,
      backoff: { initialMs: config.refresher.backoffInitialMs, maxMs: config.refresher.backoffMaxMs },
    });
    refresher.on('backoff', (e) => logger.warn({ event: 'refresher.backoff', delayMs: Math.round(e.delayMs), error: e.errorCode, consecutiveFailures: e.consecutiveFailures }, 'refresher backing off'));
    refresher.on('rotation', (e) => logger.info({ event: 'refresher.rotation', codes: e.codes, calls: e.calls, failedCalls: e.failedCalls, durationMs: Math.round(e.durationMs) }, 'refresher rotation complete'));
    closers.push(() => refresher.stop());

    // The city tier: in a city the hub holding the refresher lease refreshes bound codes, once
    // for the whole city, and every node applies the city's changes to its local replica.
    const city = await startCityTier({ config, store: cards, status, ministry: calls, clock, logger });
    if (city !== null) {
      closers.push(() => city.close());
      shareAnswer = (code, answer, at) => city.replica.sharer.share(code, answer, at);
    }
    /** A tapped or newly bound code is refreshed first: by the local refresher, or by the city's leader on a hub. */
    const noteTap = (code: string): void => {
      if (city === null) refresher.noteTap(code);
      else city.hub?.noteTap(code);
    };

    const build = buildInfo();
    metrics = createMetrics({
      status,
      ministryHealth,
      clock,
      guard: ministry,
      gates: config.gates.list.map((g) => g.id),
      build: { version: build.version, commit: build.commit.slice(0, 12) + (build.dirty ? '-modified' : '') },
    });
    // The store's worker keeps the count (and recounts after another process's import).
    const countBindings = (): number => cards.bindingCount;
    cardMetrics(metrics, countBindings, refresher, storeUp);
    environmentMetric(metrics, environment);
    cityMetrics(metrics, { role: config.city.role, replica: () => city?.replicaReport() ?? null, hub: () => city?.hubReport() ?? null, reconcile: () => city?.reconcileReport() ?? null });

    // The decision journal: every decision, batched to its own worker thread and SQLite file.
    let journal: Journal | null = null;
    if (config.journal.enabled) {
      const j = new Journal({
        file: resolve(config.dataDir, 'journal.db'),
        clock,
        retentionMs: config.journal.retentionDays * 86_400_000,
        maxBytes: config.journal.maxBytes,
        flushIntervalMs: config.journal.flushIntervalMs,
        onError: (err) => logger.error({ event: 'journal.error', err }, 'decision journal failed: decisions go on unrecorded'),
      });
      journal = j;
      closers.push(() => j.close());
      // A journal that cannot open (corrupt or unreadable journal.db) does not stop the station:
      // decisions go on unrecorded, logged (onError), on /readyz and in hes_gate_journal_up.
      await j.ready.catch(() => undefined);
    }
    journalMetrics(metrics, journal);

    const m = metrics;
    let station: Station | null = null;
    // The live page's event-loop readout: the overload monitor's window (created below, read
    // only while a page watches, after start).
    const loopDelay = {
      snapshot: () => {
        const w = eventLoop.window();
        return { maxMs: w.maxMs, p99Ms: w.p99Ms };
      },
    };
    const feed = new LiveFeed({
      clock,
      status: liveStatusFrom({ environment, clock, ministryHealth, guard: ministry, status, devices: () => station?.status() ?? [], loopDelay, ...(city === null ? {} : { city: { role: city.role, replica: () => city.replicaReport(), hub: () => city.hubReport() } }) }),
      onError: (err) => logger.error({ err }, 'live feed: status snapshot failed'),
    });
    live = feed;
    const decisions = new DecisionService({
      status,
      gates: gateLookup(config.gates),
      clock,
      repeatTaps: new RepeatTaps({ holdMs: longestRepeatTapWindow(config.gates), clock }),
      bindings: cards,
      onCardTap: noteTap,
      onDecision: (e) => {
        m.decision(e);
        feed.decision(e);
        journal?.record(e);
      },
    });

    // Serial readers and gate controllers: gates that list devices become a station.
    const stationGateList = stationGates(config.gates.list);
    if (stationGateList.length > 0) {
      const profiles = loadProfiles(profilesDir(config));
      station = createStation({
        gates: stationGateList,
        profiles,
        clock,
        logger: logger.child({ component: 'devices' }),
        decide: async (credential) => (await decisions.decide(credential)) ?? FALLBACK_DECISION,
      });
      deviceMetrics(metrics, station);
      controllerMetrics(metrics, station);
      station.on('tap', (e) => feed.tap(e));
      station.on('device', (e) => {
        const log = e.state === 'open' || e.expected === true ? logger.info.bind(logger) : logger.warn.bind(logger);
        log({ event: 'device.state', device: e.id, role: e.role, path: e.path, state: e.state, error: e.error ?? null }, `device ${e.id} ${e.state}`);
      });
      const st = station;
      closers.push(() => st.stop());
    }

    const eventLoop = new EventLoopMonitor();
    eventLoop.start();
    closers.push(() => eventLoop.stop());
    const admission = new Admission({
      lagMs: () => eventLoop.lagMs(),
      waiting: () => status.inflightCount,
      maxEventLoopDelayMs: config.limits.maxEventLoopDelayMs,
      maxInFlight: config.limits.maxDecisionsInFlight,
    });
    overloadMetrics(metrics, { eventLoop, admission });
    const app = createHttpApp({ bodyLimitBytes: config.server.bodyLimitBytes, logger, limits: config.limits });
    connectionMetrics(metrics, app.connectionRefusals);
    if (config.log.requests) logRequests(app, app.log as Logger);
    closers.push(async () => {
      // Keep-alive clients hold connections open after their last answer; close each one as it
      // goes idle, so shutdown waits for requests in flight and not for clients' idle sockets.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 25);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
    });

    const readiness = [
      { name: 'config', check: () => ({ ok: true, detail: `${environment} environment` }) },
      storeReadiness(countBindings),
      { name: 'event loop', check: () => eventLoopCheck(eventLoop.window(), config.limits.maxEventLoopDelayMs, Math.min(...policies.map((p) => p.deadlineMs))) },
      ministryReadiness({ health: ministryHealth, guard: ministry, fallbackArmed: outageFallbackArmed(policies) }),
    ];
    const devices = (): ReturnType<Station['status']> => station?.status() ?? [];
    await registerOpenApi(app, { version: build.version, tokens: [config.server.adminToken, config.server.apiToken] });
    await app.register(opsRoutes, { registry: metrics.registry, readiness, informational: informationalChecks(journalReadiness(journal), ...(address === null ? [] : [() => address.readiness()]), deviceReadiness(devices), ...(city === null ? [] : [cityReadiness(() => city.replicaReport(), () => city.hubReport())])), devices, deviceTokens: [config.server.adminToken, config.server.apiToken] });
    await app.register(decisionRoutes, { decisions, clock, apiToken: config.server.apiToken, admission });
    const history = new LiveHistorySource({ journal, configuredGates: config.gates.list.map((g) => g.id), seenGates: () => feed.gates(), clock });
    await app.register(liveRoutes, { feed, token: operatorToken(config.server), history: () => history.get() });
    await app.register(journalRoutes, { journal, adminToken: config.server.adminToken, clock, station: config.stationId });
    await app.register(cardRoutes, {
      store: cards,
      adminToken: config.server.adminToken?.reveal(),
      importBatchSize: 5000,
      // In a city, a hub writes bindings to the city's registry and a station refuses them.
      ...(city === null ? {} : { writer: city.hub === null ? replicaBindingWriter() : hubBindingWriter({ registry: city.hub.registry, journal: (e) => cards.journal(e), clock }) }),
      // A new or changed binding is refreshed first, so its first tap finds a fresh status.
      onChange: (e) => {
        if (e.action === 'put') noteTap(e.hesCode);
      },
    });

    if (station !== null) await station.start();
    // In a city, the lease holder refreshes (city/hub); the station's own refresher stays off.
    if (config.refresher.enabled && city === null) refresher.start();

    // Sent before listening and not awaited: a refusal shows in /readyz and the log at once,
    // while the station already answers. The embedded simulator's credentials are its own.
    const credentialsProbe: HesGate['credentialsProbe'] =
      simulator !== null
        ? Promise.resolve('skipped')
        : probeCredentials(statusCalls(client, plus).single).then((outcome) => {
            if (outcome === 'accepted') logger.info({ environment }, 'ministry: credentials accepted');
            return outcome;
          });

    let url: string | null = null;
    if (options.listen !== false) {
      url = await app.listen({ host: config.server.host, port: config.server.port });
      logger.info({ event: 'ready', url, environment, gates: config.gates.list.length }, 'hes-gate is serving');
    } else {
      await app.ready();
      logger.info({ event: 'ready', url: null, environment, gates: config.gates.list.length }, 'hes-gate is ready');
    }

    return { config, environment, app, url, decisions, status, ministry, ministryHealth, metrics, logger, simulator, station, cards, refresher, live: feed, journal, city, credentialsProbe, close };
  } catch (err) {
    await close();
    throw err;
  }
}
