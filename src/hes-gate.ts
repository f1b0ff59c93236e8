/**
 * The composition root: builds a running hes-gate from a loaded configuration. Every adapter
 * (ministry client, stores, serial devices, HTTP) is created here or in an assembler called from
 * here (ministry/assemble.ts, cards/assemble.ts, http/assemble.ts) and passed to the stages that
 * use it; nothing else constructs adapters or reads the environment. Each part adds its close as
 * it opens, so the service stops in the reverse order.
 *
 *   config ─> logger ─> ministry side (target: address or embedded simulator; guard)
 *          ─> card side (store, status service, refresher) ─> city tier, metrics, journal
 *          ─> decision service ─> serial station, HTTP side ─> credentials probe ─> listen
 */
import { openCardSide } from './cards/assemble.js';
import { startCityTier } from './city/index.js';
import { buildInfo } from './build-info.js';
import { Closers } from './closers.js';
import type { LoadedConfig } from './config/load.js';
import { DecisionService } from './decisions/decision-service.js';
import { longestRepeatTapWindow, RepeatTaps } from './decisions/repeat-taps.js';
import { configuredStation } from './devices/configured-station.js';
import type { Station } from './devices/station.js';
import type { HesGate, StartOptions } from './hes-gate-types.js';
import { openHttpSide } from './http/assemble.js';
import { openJournal } from './journal/journal.js';
import { openMinistrySide } from './ministry/assemble.js';
import { EventLoopMonitor } from './ops/event-loop.js';
import type { LiveFeed } from './ops/live-feed.js';
import { createLogger } from './ops/logger.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { MinistryHealth } from './ops/ministry-health.js';
import { cardStoreLogs, logDevices, logProbe, ministryLogs } from './ops/part-logs.js';
import { stationLiveFeed } from './ops/station-live-feed.js';
import { vehicleMetrics } from './ops/vehicle-metrics.js';
import { FALLBACK_DECISION } from './policy/decide.js';
import { allPolicies, gateLookup, needsPlusFields } from './policy/gate-lookup.js';
import { startEmbeddedSimulator } from './simulator/embedded.js';
import { refreshFirst } from './status/refresh-first.js';
import { startVehiclePublishing } from './vehicles/hub/index.js';
import { onBoard } from './vehicles/vehicle/on-board.js';

export type { HesGate, StartOptions } from './hes-gate-types.js';

export async function startHesGate(loaded: LoadedConfig, options: StartOptions = {}): Promise<HesGate> {
  const { config } = loaded;
  const logger = options.logger ?? createLogger(config.log.level, undefined, config.stationId);
  // A vehicle reads the time on its signed clock: never behind a list time it verified (vehicles/vehicle/).
  const vehicle = config.city.role === 'vehicle' ? onBoard(config, options.clock ?? Date.now, logger) : null;
  const clock = vehicle?.clock ?? options.clock ?? Date.now;
  const closers = new Closers();
  const close = async (): Promise<void> => {
    logger.info({ event: 'stop' }, 'hes-gate stopping');
    await closers.closeAll((err) => logger.error({ err }, 'error while closing'));
  };

  // The environment is named once the ministry target is known (`ready`): the embedded simulator is never `live`.
  const build = buildInfo();
  logger.info({ event: 'start', version: build.version }, 'hes-gate starting');
  try {
    const ministryHealth = new MinistryHealth();
    let metrics: Metrics | undefined;
    let feed: LiveFeed | undefined;
    const policies = allPolicies(config.gates);
    const observer = ministryLogs({ logger, clock, health: ministryHealth, sinks: () => [metrics, feed] });
    const ministrySide = await openMinistrySide(config, { clock, closers, plus: needsPlusFields(policies), embedded: startEmbeddedSimulator, observer });
    const { environment, simulator, ministry, calls } = ministrySide;
    const cardSide = await openCardSide(config, { clock, closers, calls, observer: cardStoreLogs(logger) });
    const { cards, status, refresher } = cardSide;

    const city = await startCityTier({ config, store: cards, status, ministry: calls, clock, logger });
    if (city !== null) {
      closers.add(() => city.close());
      cardSide.shareAnswers((code, answer, at) => city.replica.sharer.share(code, answer, at));
    }
    const noteTap = refreshFirst(refresher, city);

    metrics = createMetrics({ status, ministryHealth, clock, guard: ministry, gates: config.gates.list.map((g) => g.id), build: { version: build.version, commit: build.commit.slice(0, 12) + (build.dirty ? '-modified' : '') } });
    const journal = await openJournal(config, clock, (err) => logger.error({ event: 'journal.error', err }, 'decision journal failed: decisions go on unrecorded'));
    if (journal !== null) closers.add(() => journal.close());
    if (vehicle !== null) {
      closers.add(() => vehicle.close());
      await vehicle.start({ journal });
    }

    // A hub with vehicles.enabled publishes the vehicle list while it holds the lease (vehicles/hub).
    const hub = city?.hub ?? null;
    const vehicles = config.vehicles.enabled && hub !== null ? await startVehiclePublishing({ config, store: cards, lease: hub.lease, journal, logger, clock }) : null;
    if (vehicles !== null) {
      closers.add(() => vehicles.close());
      vehicleMetrics(metrics, { report: () => vehicles.report(), clock });
    }
    // How late the loop runs: decisions shorten their ministry wait by it, admission sheds on it.
    const eventLoop = new EventLoopMonitor();
    eventLoop.start();
    closers.add(() => eventLoop.stop());
    let station: Station | null = null;
    const devices = (): ReturnType<Station['status']> => station?.status() ?? [];
    const live = stationLiveFeed({ environment, clock, logger, ministryHealth, guard: ministry, status, devices, eventLoop, city });
    feed = live;
    const m = metrics;
    const decisions = new DecisionService({
      status,
      gates: gateLookup(config.gates),
      clock,
      repeatTaps: new RepeatTaps({ holdMs: longestRepeatTapWindow(config.gates), clock }),
      bindings: { getBinding: (cardId) => cards.tapBinding(cardId) },
      ...(vehicle === null ? {} : { cardList: vehicle.cardList }),
      onCardTap: noteTap,
      lateness: () => eventLoop.timerLagMs(),
      onDecision: (e) => {
        m.decision(e);
        live.decision(e);
        journal?.record(e);
      },
    });

    station = configuredStation(config, { clock, logger, decide: async (credential) => (await decisions.decide(credential)) ?? FALLBACK_DECISION });
    if (station !== null) {
      const st = station;
      st.on('tap', (e) => live.tap(e));
      logDevices(logger, st);
      closers.add(() => st.stop());
    }

    const app = await openHttpSide({ config, logger, clock, closers, version: build.version, policies, ministry: { ...ministrySide, health: ministryHealth }, cards: cardSide, city, vehicle, vehicles, journal, station, devices, eventLoop, metrics, live, decisions, noteTap });

    if (station !== null) await station.start();
    // In a city, the lease holder refreshes (city/hub); the station's own refresher stays off. A
    // vehicle binds no cards: its list carries the hub's refreshed verdicts.
    if (config.refresher.enabled && city === null && vehicle === null) refresher.start();

    // Sent before listening and not awaited: a refusal shows in /readyz and the log at once,
    // while the station already answers. The embedded simulator's credentials are its own.
    const credentialsProbe = logProbe(logger, environment, ministrySide.probe());

    const url = options.listen === false ? (await app.ready(), null) : await app.listen({ host: config.server.host, port: config.server.port });
    logger.info({ event: 'ready', url, environment, gates: config.gates.list.length }, url === null ? 'hes-gate is ready' : 'hes-gate is serving');
    return { config, environment, app, url, decisions, status, ministry, ministryHealth, metrics, logger, simulator, station, cards, refresher, live, journal, city, vehicle, credentialsProbe, close };
  } catch (err) {
    await close();
    throw err;
  }
}
