/**
 * The operators' live feed (GET /live) as a running service builds it: its status snapshot read
 * from the ministry's health, the circuit, the status cache, the serial devices, the event loop
 * and, in a city, the tier's reports. A snapshot that throws is logged and skipped.
 */
import type { Logger } from 'pino';
import type { Clock } from '../types.js';
import { LiveFeed } from './live-feed.js';
import { liveStatusFrom, type LiveCitySources, type LiveStatusSources } from './live-status.js';

export interface StationLiveFeedOptions extends Omit<LiveStatusSources, 'loopDelay' | 'city'> {
  clock: Clock;
  logger: Logger;
  /** The overload monitor (ops/event-loop.ts); its window is read only while a page watches. */
  eventLoop: { window(): { maxMs: number; p99Ms: number } };
  /** The city tier; null when standalone. */
  city: { role: LiveCitySources['role']; replicaReport: LiveCitySources['replica']; hubReport: LiveCitySources['hub'] } | null;
}

export function stationLiveFeed(o: StationLiveFeedOptions): LiveFeed {
  const { logger, eventLoop, city, ...sources } = o;
  const loopDelay = { snapshot: () => pick(eventLoop.window()) };
  const cityReports = city === null ? undefined : { role: city.role, replica: () => city.replicaReport(), hub: () => city.hubReport() };
  return new LiveFeed({
    clock: o.clock,
    status: liveStatusFrom({ ...sources, loopDelay, ...(cityReports === undefined ? {} : { city: cityReports }) }),
    onError: (err) => logger.error({ err }, 'live feed: status snapshot failed'),
  });
}

/** The live page's event-loop readout: the overload monitor's window, only the figures it shows. */
const pick = (w: { maxMs: number; p99Ms: number }): { maxMs: number; p99Ms: number } => ({ maxMs: w.maxMs, p99Ms: w.p99Ms });
