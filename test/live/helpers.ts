import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/http/app.js';
import { liveRoutes } from '../../src/http/routes/live.js';
import { LiveFeed, type LiveFeedOptions, type Ticker } from '../../src/ops/live-feed.js';
import type { LiveStatus } from '../../src/ops/live-wire.js';
import { createLogger } from '../../src/ops/logger.js';
import type { DecisionEvent } from '../../src/decisions/decision-service.js';
import type { Secret } from '../../src/config/sensitive-value.js';
import { LogCapture } from '../http/helpers.js';
import { LiveHistorySource } from '../../src/ops/live-history.js';

/** A ticker the test drives: tick() runs one fan-out period, as the interval would. */
export function manualTicker(): { ticker: Ticker; tick(n?: number): void; readonly running: boolean } {
  let fn: (() => void) | null = null;
  return {
    ticker: (f) => {
      fn = f;
      return () => {
        fn = null;
      };
    },
    tick(n = 1) {
      for (let i = 0; i < n; i++) fn?.();
    },
    get running() {
      return fn !== null;
    },
  };
}

export const T0 = Date.UTC(2024, 4, 20, 9, 30, 0);

let counter = 0;
export function decisionEvent(overrides: Partial<DecisionEvent> = {}): DecisionEvent {
  counter++;
  return {
    gate: 'G1',
    group: 'G1',
    reader: undefined,
    kind: 'hes',
    verdict: 'pass',
    reason: 'RISKLESS',
    source: 'cache',
    decisionId: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    elapsedMs: 0.42,
    at: T0,
    ...overrides,
  };
}

export function sampleStatus(overrides: Partial<LiveStatus> = {}): LiveStatus {
  return {
    environment: 'simulator',
    ministry: { state: 'up', circuit: 'closed', lastError: null, lastSuccessAt: T0 - 4000, openUntil: 0, pausedUntil: 0 },
    cache: { entries: 1234, hits: 950, misses: 50, stale: 3, inflight: 0 },
    devices: [],
    ...overrides,
  };
}

export interface LiveServer {
  app: FastifyInstance;
  url: string;
  feed: LiveFeed;
  tick(n?: number): void;
  logs: LogCapture;
}

/** The project's own fastify app with the live routes and a feed the test feeds, on a real port. */
export async function startLiveServer(
  options: { token?: Secret | null; feed?: Partial<LiveFeedOptions>; status?: () => LiveStatus } = {},
): Promise<LiveServer> {
  const t = manualTicker();
  const feed = new LiveFeed({ status: options.status ?? (() => sampleStatus()), clock: () => T0, ticker: t.ticker, ...options.feed });
  const logs = new LogCapture();
  const app = createHttpApp({ bodyLimitBytes: 8192, logger: createLogger('info', logs) });
  // No journal here: the page's history says so, and still names the gates the feed saw.
  const history = new LiveHistorySource({ journal: null, configuredGates: [], seenGates: () => feed.gates(), clock: () => T0 });
  await app.register(liveRoutes, { feed, token: options.token ?? null, history: () => history.get() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, feed, tick: t.tick, logs };
}

/** A parsed SSE stream read with fetch, as the page reads it. */
export class SseReader {
  readonly events: Array<{ event: string; data: string }> = [];
  readonly comments: string[] = [];
  retry: number | null = null;
  ended = false;
  private buffer = '';
  private waiters: Array<() => void> = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  done: Promise<void>;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
    this.done = this.pump();
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
        }
        for (const w of this.waiters.splice(0)) w();
      }
    } catch {
      /* cancelled or reset: `ended` says so */
    } finally {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  private parse(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7));
    }
    if (data.length > 0) this.events.push({ event, data: data.join('\n') });
  }

  /** Resolves when `count` events named `event` have arrived (no sleeping: woken by each chunk). */
  async waitFor(event: string, count = 1): Promise<unknown[]> {
    for (;;) {
      const found = this.events.filter((e) => e.event === event).map((e) => JSON.parse(e.data) as unknown);
      if (found.length >= count) return found;
      if (this.ended) throw new Error(`the stream ended after ${found.length} "${event}" events, expected ${count}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}
