/**
 * The composition root: builds a running hes-gate from a loaded configuration. Every adapter
 * (ministry client, stores, serial devices, HTTP) is created here and passed to the stages
 * that use it; nothing else constructs adapters or reads the environment.
 *
 *   config ─> logger, metrics
 *          ─> ministry (embedded simulator when no base URL) ─> status service
 *          ─> card store ─> decision service ─> HTTP app, serial station, refresher
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import type { LoadedConfig } from './config/load.js';
import { createLogger, type Logger } from './ops/logger.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { MinistryHealth } from './ops/ministry-health.js';
import { createMinistryClient } from './ministry/client.js';
import { ministryClientOptions } from './ministry/from-config.js';
import { GuardedMinistry } from './ministry/guard.js';
import type { MinistryCallEvent } from './ministry/types.js';
import { StatusService } from './status/status-service.js';
import { DecisionService } from './decisions/decision-service.js';
import { RepeatTaps } from './decisions/repeat-taps.js';
import { createHttpApp } from './http/app.js';
import { decisionRoutes } from './http/routes/decisions.js';
import { opsRoutes, type ReadinessCheck } from './http/routes/ops.js';
import { startSimulator, type Simulator, SIMULATOR_USER, SIMULATOR_PASSWORD } from './simulator/index.js';
import type { Clock, Decision } from './types.js';
import { profilesDir } from './config/load.js';
import { loadProfiles } from './devices/profiles.js';
import { stationGates } from './devices/config.js';
import { createStation, type Station } from './devices/station.js';
import { deviceMetrics } from './ops/device-metrics.js';
import { LiveFeed } from './ops/live-feed.js';
import { liveStatusFrom } from './ops/live-status.js';
import { liveRoutes } from './http/routes/live.js';
import { openCardStore, type CardStore } from './cards/store.js';
import { createRefresher, type Refresher } from './status/refresher.js';
import { cardRoutes } from './http/routes/cards.js';
import { cardMetrics } from './ops/card-metrics.js';
import { registerOpenApi } from './http/openapi.js';
import { buildInfo } from './build-info.js';
import type { GatePolicy } from './policy/types.js';
import { Journal } from './journal/journal.js';
import { journalRoutes } from './http/routes/journal.js';
import { LiveHistorySource } from './ops/live-history.js';
import { startLoopDelayReadout } from './ops/event-loop-readout.js';
import { logRequests } from './http/request-log.js';

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** Listen (default true); tests may use `app.inject()` instead. */
  listen?: boolean;
}

export interface HesGate {
  config: Readonly<Config>;
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
  cards: CardStore;
  /** Keeps bound codes fresh with bulk calls. */
  refresher: Refresher;
  /** The operators' live feed behind GET /live. */
  live: LiveFeed;
  /** The decision journal (null when journal.enabled is false). */
  journal: Journal | null;
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

  logger.info({ event: 'start', version: buildInfo().version, environment: config.environment }, 'hes-gate starting');
  try {
    // The ministry: a real address, or the embedded simulator over loopback HTTP.
    let simulator: Simulator | null = null;
    let baseUrl = config.ministry.baseUrl;
    let user = config.ministry.user;
    let password = config.ministry.password?.reveal() ?? null;
    if (baseUrl === null) {
      simulator = await startSimulator({ host: config.simulator.host, port: config.simulator.port, codesFile: config.simulator.codesFile ?? undefined });
      closers.push(() => simulator?.close());
      baseUrl = simulator.url;
      user = SIMULATOR_USER;
      password = SIMULATOR_PASSWORD;
      logger.info({ baseUrl }, 'ministry: embedded simulator (sample codes, no real data)');
    } else {
      logger.info({ baseUrl, environment: config.environment, user: user === null ? null : 'set', password: password === null ? 'unset' : 'set' }, 'ministry: remote service');
    }
    if (user === null || password === null) {
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
      if (e.outcome === 'HG_MINISTRY_AUTH') logger.error({ endpoint: e.endpoint }, 'the ministry refused the credentials: check HES_GATE_MINISTRY_USER and the password for this environment');
    };
    const client = createMinistryClient(ministryClientOptions(config, { baseUrl, user: user ?? '', password: password ?? '', onCall, clock }));
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

    const cards = openCardStore({ dataDir: resolve(config.dataDir), clock });
    closers.push(() => cards.close());

    // Gates that require vaccination, immunity or a test need the plus calls; others never ask
    // for those fields (keep only what a decision needs).
    const allPolicies = [config.gates.defaults, ...config.gates.list.map((g) => g.policy)];
    const usePlus = allPolicies.some((p) => p.requirement !== 'none');
    const status = new StatusService({
      ...config.cache,
      ministry: usePlus ? (code) => ministry.checkHesCodePlus(code) : (code) => ministry.checkHesCode(code),
      clock,
      persistence: cards,
    });
    closers.push(() => status.drain());
    const restored = status.restore();
    let counted = { at: clock(), n: cards.countBindings() };
    logger.info({ bindings: counted.n, restoredStatuses: restored }, 'card store open');

    // Bound codes are refreshed in bulk; what it learns is persisted for the outage policy.
    const refresher = createRefresher({
      store: cards,
      ministry: usePlus ? { checkHesCodes: (codes) => ministry.checkHesCodesPlus(codes) } : ministry,
      sink: status,
      clock,
      budgetCallsPerSecond: config.refresher.callsPerSecond,
      backoff: { initialMs: config.refresher.backoffInitialMs, maxMs: config.refresher.backoffMaxMs },
    });
    refresher.on('backoff', (e) => logger.warn({ event: 'refresher.backoff', delayMs: Math.round(e.delayMs), error: e.errorCode, consecutiveFailures: e.consecutiveFailures }, 'refresher backing off'));
    refresher.on('rotation', (e) => logger.info({ event: 'refresher.rotation', codes: e.codes, calls: e.calls, failedCalls: e.failedCalls, durationMs: Math.round(e.durationMs) }, 'refresher rotation complete'));
    closers.push(() => refresher.stop());

    const build = buildInfo();
    metrics = createMetrics({
      status,
      ministryHealth,
      clock,
      guard: ministry,
      gates: config.gates.list.map((g) => g.id),
      build: { version: build.version, commit: build.commit.slice(0, 12) + (build.dirty ? '-modified' : '') },
    });
    // Counting a million rows takes tens of ms of synchronous SQLite: at most every 30 s, not per
    // probe or scrape. (Another process, `hes-gate cards import`, may change the count too.)
    const countBindings = (): number => {
      const now = clock();
      if (now - counted.at >= 30_000) counted = { at: now, n: cards.countBindings() };
      return counted.n;
    };
    cardMetrics(metrics, countBindings, refresher);

    const gatesById = new Map(config.gates.list.map((g) => [g.id, { group: g.group, policy: g.policy }]));
    const defaults = config.gates.defaults;
    const gates = (id: string): { group: string; policy: GatePolicy } | undefined =>
      gatesById.get(id) ?? (config.gates.requireKnown ? undefined : { group: id, policy: defaults });

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
      await j.ready;
    }

    const m = metrics;
    let station: Station | null = null;
    const loopDelay = startLoopDelayReadout();
    closers.push(() => loopDelay.stop());
    const feed = new LiveFeed({
      clock,
      status: liveStatusFrom({ environment: config.environment, clock, ministryHealth, guard: ministry, status, devices: () => station?.status() ?? [], loopDelay }),
      onError: (err) => logger.error({ err }, 'live feed: status snapshot failed'),
    });
    live = feed;
    const decisions = new DecisionService({
      status,
      gates,
      clock,
      repeatTaps: new RepeatTaps(),
      bindings: cards,
      onCardTap: (code) => refresher.noteTap(code),
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
      const unknownGate: Decision = { verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' };
      station = createStation({
        gates: stationGateList,
        profiles,
        clock,
        logger: logger.child({ component: 'devices' }),
        decide: async (credential) => (await decisions.decide(credential)) ?? unknownGate,
      });
      deviceMetrics(metrics, station);
      station.on('tap', (e) => feed.tap(e));
      station.on('device', (e) => {
        const log = e.state === 'open' ? logger.info.bind(logger) : logger.warn.bind(logger);
        log({ event: 'device.state', device: e.id, role: e.role, path: e.path, state: e.state, error: e.error ?? null }, `device ${e.id} ${e.state}`);
      });
      const st = station;
      closers.push(() => st.stop());
    }

    const app = createHttpApp({ bodyLimitBytes: config.server.bodyLimitBytes, logger });
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

    const readiness = (): ReadinessCheck[] => [
      { name: 'config', check: () => ({ ok: true, detail: `${config.environment} environment` }) },
      { name: 'store', check: () => ({ ok: true, detail: `${countBindings()} card bindings` }) },
      {
        name: 'ministry',
        check: () => {
          const s = ministryHealth.state;
          const circuit = ministry.snapshot();
          const fallbackArmed = allPolicies.every((p) => p.ministryUnavailable !== 'deny');
          if (s === 'credentials-refused') return { ok: false, detail: 'the ministry refused the credentials' };
          if (s === 'down' || circuit.state !== 'closed') {
            return fallbackArmed
              ? { ok: true, detail: `ministry ${s}, circuit ${circuit.state} (${ministryHealth.lastError}); outage policy armed` }
              : { ok: false, detail: `ministry ${s}, circuit ${circuit.state} (${ministryHealth.lastError}) and a gate policy denies on outage` };
          }
          return { ok: true, detail: `${s}, circuit ${circuit.state}` };
        },
      },
    ];
    const informational = (): ReadinessCheck[] =>
      station === null
        ? []
        : station.status().map((d) => ({
            name: `device ${d.id}`,
            check: () => ({ ok: d.state === 'open', detail: `${d.role} ${d.profile} on ${d.path}: ${d.state}${d.lastError ? ` (${d.lastError})` : ''}` }),
          }));
    await registerOpenApi(app, { version: build.version });
    await app.register(opsRoutes, { registry: metrics.registry, readiness, informational, devices: () => station?.status() ?? [] });
    await app.register(decisionRoutes, { decisions, clock, apiToken: config.server.apiToken });
    const history = new LiveHistorySource({ journal, configuredGates: config.gates.list.map((g) => g.id), seenGates: () => feed.gates(), clock });
    await app.register(liveRoutes, { feed, token: config.server.adminToken, history: () => history.get() });
    await app.register(journalRoutes, { journal, adminToken: config.server.adminToken, clock, station: config.stationId });
    await app.register(cardRoutes, {
      store: cards,
      adminToken: config.server.adminToken?.reveal(),
      importBatchSize: 5000,
      // A new or changed binding is refreshed first, so its first tap finds a fresh status.
      onChange: (e) => {
        if (e.action === 'put') refresher.noteTap(e.hesCode);
      },
    });

    if (station !== null) await station.start();
    if (config.refresher.enabled) refresher.start();

    let url: string | null = null;
    if (options.listen !== false) {
      url = await app.listen({ host: config.server.host, port: config.server.port });
      logger.info({ event: 'ready', url, environment: config.environment, gates: config.gates.list.length }, 'hes-gate is serving');
    } else {
      await app.ready();
      logger.info({ event: 'ready', url: null, environment: config.environment, gates: config.gates.list.length }, 'hes-gate is ready');
    }

    return { config, app, url, decisions, status, ministry, ministryHealth, metrics, logger, simulator, station, cards, refresher, live: feed, journal, close };
  } catch (err) {
    await close();
    throw err;
  }
}
