/**
 * The operators' live feed: the last decisions, per-minute counts, and a status snapshot,
 * pushed to the live page's Server-Sent Events streams.
 *
 *   decision(e) ──> ring (last N, by reference) + minute counts               O(1), no allocation
 *   tap(e), ministryCall(e) ──> minute counts                                 O(1), no allocation
 *   every flushEveryMs, while a client is attached:
 *     new ring entries ──> one `decisions` event, serialised once ──> every client
 *     every snapshotEveryMs: status() + minutes ──> one `snapshot` event ──> every client
 *   a client whose unsent bytes would pass maxBufferedBytes is dropped, not buffered for.
 *
 * Privacy: a decision leaves only through toWire(), which copies named fields. A decision
 * carries no code, card id or payload, and a field added to it later is not sent until it is
 * named there. Tap events are counted only (their masked values never enter the feed).
 */
import type { Clock } from '../types.js';
import type { TapEvent } from '../devices/events.js';
import type { MinistryCallEvent } from '../ministry/types.js';
import type { DecisionBatch, LiveDecision, LiveSnapshot, LiveStatus } from './live-wire.js';
import { MinuteCounter } from './minute-counts.js';
import type { DecisionRecord } from './sources.js';

/** A connected stream. The feed hands it pre-serialised SSE text. */
export interface LiveClient {
  send(chunk: string): void;
  /** Bytes accepted by send() and not yet handed to the network. */
  readonly buffered: number;
  /** Called once when the feed lets go of the client (too slow, or detachAll()). */
  drop(why: 'slow' | 'closing'): void;
}

/** Runs fn every `ms` until the returned stop function is called. */
export type Ticker = (fn: () => void, ms: number) => () => void;

export interface LiveFeedOptions {
  /** The service's state, read once per snapshot (every snapshotEveryMs while someone watches). */
  status: () => LiveStatus;
  clock?: Clock;
  /** Decisions kept for a newly attached page. @default 200 */
  ringSize?: number;
  /** Minutes of counts kept. @default 15 */
  minutes?: number;
  /** Fan-out period, in ms. @default 250 */
  flushEveryMs?: number;
  /** Snapshot period, in ms (rounded to whole flushes). @default 2000 */
  snapshotEveryMs?: number;
  /** SSE comment period, in ms (rounded to whole flushes). @default 15000 */
  heartbeatEveryMs?: number;
  /** A client with more unsent bytes than this is dropped. @default 524288 */
  maxBufferedBytes?: number;
  /** The timer; tests pass one they drive. @default an unref'd setInterval */
  ticker?: Ticker;
  /** Told when the status provider throws (the snapshot is skipped). */
  onError?: (err: unknown) => void;
}

const MAX_SEEN_GATES = 1000;

const defaultTicker: Ticker = (fn, ms) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

/** The named fields of a decision, and nothing else. */
function toWire(e: DecisionRecord): LiveDecision {
  return {
    id: e.decisionId,
    at: e.at,
    gate: e.gate,
    group: e.group,
    reader: e.reader ?? null,
    kind: e.kind,
    verdict: e.verdict,
    reason: e.reason,
    source: e.source,
    elapsedMs: e.elapsedMs,
  };
}

function sseEvent(name: 'snapshot', data: LiveSnapshot): string;
function sseEvent(name: 'decisions', data: DecisionBatch): string;
function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class LiveFeed {
  private readonly statusOf: () => LiveStatus;
  private readonly clock: Clock;
  private readonly ring: Array<DecisionRecord | undefined>;
  private readonly minutes: MinuteCounter;
  private readonly flushEveryMs: number;
  private readonly snapshotEvery: number;
  private readonly heartbeatEvery: number;
  private readonly maxBuffered: number;
  private readonly ticker: Ticker;
  private readonly onError: ((err: unknown) => void) | undefined;
  private readonly clients = new Set<LiveClient>();
  /** Decisions seen since start; the ring slot of decision n is n % ring.length. */
  private seq = 0;
  private flushedSeq = 0;
  private ticks = 0;
  private stopTicker: (() => void) | null = null;
  /** Gate ids seen since start, bounded: a validator may send any gate id when gates.requireKnown is off. */
  private readonly seen = new Set<string>();

  constructor(options: LiveFeedOptions) {
    this.statusOf = options.status;
    this.clock = options.clock ?? Date.now;
    this.ring = new Array<DecisionRecord | undefined>(Math.max(1, options.ringSize ?? 200)).fill(undefined);
    this.minutes = new MinuteCounter(options.minutes ?? 15);
    this.flushEveryMs = options.flushEveryMs ?? 250;
    this.snapshotEvery = Math.max(1, Math.round((options.snapshotEveryMs ?? 2000) / this.flushEveryMs));
    this.heartbeatEvery = Math.max(1, Math.round((options.heartbeatEveryMs ?? 15_000) / this.flushEveryMs));
    this.maxBuffered = options.maxBufferedBytes ?? 512 * 1024;
    this.ticker = options.ticker ?? defaultTicker;
    this.onError = options.onError;
  }

  /** Record a decision. Keeps a reference (the event is not copied or changed) and counts it. */
  decision(e: DecisionRecord): void {
    this.ring[this.seq % this.ring.length] = e;
    this.seq++;
    this.minutes.decision(e.at, e);
    if (this.seen.size < MAX_SEEN_GATES) this.seen.add(e.gate);
  }

  /** Gate ids seen since start (at most MAX_SEEN_GATES of them). */
  gates(): Iterable<string> {
    return this.seen.values();
  }

  /** Record a serial tap's outcome at the gate (its decision already came through decision()). */
  tap(e: Pick<TapEvent, 'fallback' | 'command'>): void {
    if (!e.fallback && e.command !== 'failed') return;
    this.minutes.tap(this.clock(), e.fallback, e.command === 'failed');
  }

  /** Record a ministry call's outcome and latency. */
  ministryCall(e: Pick<MinistryCallEvent, 'outcome' | 'durationMs'>): void {
    const failed = e.outcome !== 'ok' && e.outcome !== 'not-found' && e.outcome !== 'expired';
    this.minutes.ministryCall(this.clock(), failed, e.durationMs);
  }

  /** The last decisions held, oldest first, at most `limit`. */
  recent(limit = this.ring.length): LiveDecision[] {
    const n = Math.min(limit, this.seq, this.ring.length);
    const out: LiveDecision[] = [];
    for (let i = this.seq - n; i < this.seq; i++) out.push(toWire(this.ring[i % this.ring.length]!));
    return out;
  }

  snapshot(): LiveSnapshot {
    const now = this.clock();
    return { ...this.statusOf(), at: now, decisions: this.seq, minutes: this.minutes.recent(now) };
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Attach a stream: it gets a snapshot and the decisions held at once, then batches. Returns
   * the detach function (call it when the connection closes).
   */
  attach(client: LiveClient): () => void {
    let first: string;
    try {
      first = sseEvent('snapshot', this.snapshot());
    } catch (err) {
      this.onError?.(err);
      first = '';
    }
    // Catch up the others before this client joins, so it never gets a decision twice.
    if (this.clients.size > 0) this.flushDecisions();
    this.flushedSeq = this.seq;
    this.clients.add(client);
    client.send(first + sseEvent('decisions', { events: this.recent(), missed: 0 }));
    if (this.stopTicker === null) {
      this.ticks = 0;
      this.stopTicker = this.ticker(() => this.tick(), this.flushEveryMs);
    }
    return () => this.detach(client);
  }

  /** Let go of every client (at shutdown: open streams would hold the server open). */
  detachAll(): void {
    for (const c of [...this.clients]) {
      this.detach(c);
      c.drop('closing');
    }
  }

  /** One fan-out period; the ticker calls it. */
  tick(): void {
    this.ticks++;
    this.flushDecisions();
    if (this.ticks % this.snapshotEvery === 0) {
      let s: string | undefined;
      try {
        s = sseEvent('snapshot', this.snapshot());
      } catch (err) {
        this.onError?.(err);
      }
      if (s !== undefined) this.broadcast(s);
    }
    if (this.ticks % this.heartbeatEvery === 0) this.broadcast(`: heartbeat ${this.clock()}\n\n`);
  }

  private flushDecisions(): void {
    const pending = this.seq - this.flushedSeq;
    if (pending === 0) return;
    const n = Math.min(pending, this.ring.length);
    this.flushedSeq = this.seq;
    if (this.clients.size === 0) return;
    this.broadcast(sseEvent('decisions', { events: this.recent(n), missed: pending - n }));
  }

  private broadcast(chunk: string): void {
    for (const c of this.clients) {
      if (c.buffered + chunk.length > this.maxBuffered) {
        this.detach(c);
        c.drop('slow');
      } else {
        c.send(chunk);
      }
    }
  }

  private detach(client: LiveClient): void {
    if (!this.clients.delete(client)) return;
    if (this.clients.size === 0 && this.stopTicker !== null) {
      this.stopTicker();
      this.stopTicker = null;
    }
  }
}
