/**
 * The operators' live feed: the last decisions, per-minute counts, and a status snapshot,
 * pushed to the live page's Server-Sent Events streams.
 *
 *   decision(e) ──> ring (last N, by reference) + minute bucket counters      O(1), no allocation
 *   tap(e), ministryCall(e) ──> minute bucket counters                        O(1), no allocation
 *   every flushEveryMs, while a client is attached:
 *     new ring entries ──> one `decisions` event, serialised once ──> every client
 *     every snapshotEveryMs: status() + minutes ──> one `snapshot` event ──> every client
 *   a client whose unsent bytes would pass maxBufferedBytes is dropped, not buffered for.
 *
 * Privacy: an event leaves only through `toWire()`, which copies named fields. DecisionEvent
 * carries no code, card id or payload, and a field added to it later is not sent until it is
 * named here. Tap events are counted only (their masked values never enter the feed).
 */
import type { Clock, Reason, Source, Verdict } from '../types.js';
import type { DecisionEvent } from '../decisions/decision-service.js';
import type { DeviceStatus, TapEvent } from '../devices/events.js';
import type { MinistryCallEvent } from '../ministry/types.js';

/** What operators see of one device: its link, never what it read. */
export interface LiveDevice {
  id: string;
  role: DeviceStatus['role'];
  gates: string[];
  path: string;
  profile: string;
  state: DeviceStatus['state'];
  /** When `state` last changed (epoch ms). */
  since: number;
  lastError: string | null;
  reopens: number;
  /** Readers: accepted reads. Controllers: commands sent. */
  count: number;
}

/** The service's state at one moment, as the status provider reports it. */
export interface LiveStatus {
  environment: 'simulator' | 'test' | 'live';
  ministry: {
    /** MinistryHealth's state: unknown, up, degraded, down, credentials-refused. */
    state: string;
    circuit: 'closed' | 'open' | 'half-open';
    lastError: string | null;
    lastSuccessAt: number | null;
    /** While the circuit is open: when the next probe may go (epoch ms); else 0. */
    openUntil: number;
    /** After a 429: when calls resume (epoch ms); else 0. */
    pausedUntil: number;
  };
  cache: {
    entries: number;
    /** Lookups answered from a fresh status, since start. */
    hits: number;
    /** Lookups that went to the ministry, since start. */
    misses: number;
    /** Lookups answered with a last-known status while the ministry could not answer, since start. */
    stale: number;
    /** Codes with a ministry call in flight. */
    inflight: number;
  };
  devices: LiveDevice[];
}

/** Counts for one wall-clock minute. */
export interface MinuteCounts {
  /** Start of the minute (epoch ms). */
  minute: number;
  pass: number;
  deny: number;
  byReason: Partial<Record<Reason, number>>;
  bySource: Partial<Record<Source, number>>;
  /** Serial taps whose decision missed the deadline and got a deny. */
  fallbacks: number;
  /** Serial taps whose gate command failed. */
  commandFailures: number;
  ministryCalls: number;
  ministryErrors: number;
  ministryMsSum: number;
  ministryMsMax: number;
}

/** The `snapshot` event's data. */
export interface LiveSnapshot extends LiveStatus {
  at: number;
  /** Decisions since start. */
  decisions: number;
  /** The last minutes with any activity, oldest first (the current one last). */
  minutes: MinuteCounts[];
}

/** One decision as it leaves the feed (the `decisions` event's data is `{events, missed}`). */
export interface LiveDecision {
  id: string;
  at: number;
  gate: string;
  group: string;
  reader: string | null;
  kind: DecisionEvent['kind'];
  verdict: Verdict;
  reason: Reason;
  source: Source;
  elapsedMs: number;
}

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

const defaultTicker: Ticker = (fn, ms) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

const MINUTE_MS = 60_000;

function emptyMinute(minute: number): MinuteCounts {
  return {
    minute,
    pass: 0,
    deny: 0,
    byReason: {},
    bySource: {},
    fallbacks: 0,
    commandFailures: 0,
    ministryCalls: 0,
    ministryErrors: 0,
    ministryMsSum: 0,
    ministryMsMax: 0,
  };
}

/** The named fields of a decision, and nothing else. */
export function toWire(e: DecisionEvent): LiveDecision {
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

export function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class LiveFeed {
  private readonly statusOf: () => LiveStatus;
  private readonly clock: Clock;
  private readonly ring: Array<DecisionEvent | undefined>;
  private readonly buckets: MinuteCounts[];
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

  constructor(options: LiveFeedOptions) {
    this.statusOf = options.status;
    this.clock = options.clock ?? Date.now;
    this.ring = new Array<DecisionEvent | undefined>(Math.max(1, options.ringSize ?? 200)).fill(undefined);
    this.buckets = Array.from({ length: Math.max(1, options.minutes ?? 15) }, () => emptyMinute(-1));
    this.flushEveryMs = options.flushEveryMs ?? 250;
    this.snapshotEvery = Math.max(1, Math.round((options.snapshotEveryMs ?? 2000) / this.flushEveryMs));
    this.heartbeatEvery = Math.max(1, Math.round((options.heartbeatEveryMs ?? 15_000) / this.flushEveryMs));
    this.maxBuffered = options.maxBufferedBytes ?? 512 * 1024;
    this.ticker = options.ticker ?? defaultTicker;
    this.onError = options.onError;
  }

  /** Record a decision. Keeps a reference (the event is not copied or changed) and counts it. */
  decision(e: DecisionEvent): void {
    this.ring[this.seq % this.ring.length] = e;
    this.seq++;
    const b = this.bucket(e.at);
    if (b === undefined) return;
    if (e.verdict === 'pass') b.pass++;
    else b.deny++;
    b.byReason[e.reason] = (b.byReason[e.reason] ?? 0) + 1;
    b.bySource[e.source] = (b.bySource[e.source] ?? 0) + 1;
  }

  /** Record a serial tap's outcome at the gate (its decision already came through decision()). */
  tap(e: Pick<TapEvent, 'fallback' | 'command'>): void {
    if (!e.fallback && e.command !== 'failed') return;
    const b = this.bucket(this.clock());
    if (b === undefined) return;
    if (e.fallback) b.fallbacks++;
    if (e.command === 'failed') b.commandFailures++;
  }

  /** Record a ministry call's outcome and latency. */
  ministryCall(e: Pick<MinistryCallEvent, 'outcome' | 'durationMs'>): void {
    const b = this.bucket(this.clock());
    if (b === undefined) return;
    b.ministryCalls++;
    if (e.outcome !== 'ok' && e.outcome !== 'not-found' && e.outcome !== 'expired') b.ministryErrors++;
    b.ministryMsSum += e.durationMs;
    if (e.durationMs > b.ministryMsMax) b.ministryMsMax = e.durationMs;
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
    const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const oldest = current - (this.buckets.length - 1) * MINUTE_MS;
    const minutes = this.buckets
      .filter((b) => b.minute >= oldest && b.minute <= current)
      .sort((a, b) => a.minute - b.minute)
      .map((b) => ({ ...b, byReason: { ...b.byReason }, bySource: { ...b.bySource } }));
    return { ...this.statusOf(), at: now, decisions: this.seq, minutes };
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

  /** The bucket of the minute holding `at`, reset if it held an older minute; undefined if `at` is too old. */
  private bucket(at: number): MinuteCounts | undefined {
    const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    const index = Math.floor(at / MINUTE_MS) % this.buckets.length;
    const b = this.buckets[index]!;
    if (b.minute === minute) return b;
    if (b.minute > minute) return undefined;
    b.minute = minute;
    b.pass = b.deny = b.fallbacks = b.commandFailures = 0;
    b.ministryCalls = b.ministryErrors = b.ministryMsSum = b.ministryMsMax = 0;
    b.byReason = {};
    b.bySource = {};
    return b;
  }
}

/** The objects of the composition root the status is read from (structural, so tests can pass plain ones). */
export interface LiveStatusSources {
  environment: LiveStatus['environment'];
  clock: Clock;
  ministryHealth: { readonly state: string; readonly lastError: string | null; readonly lastSuccessAt: number | null };
  guard: { snapshot(): { state: LiveStatus['ministry']['circuit']; lastError: string | null; openUntil: number; pausedUntil: number } };
  status: { readonly size: number; readonly inflightCount: number; readonly counters: { hits: number; misses: number; stale: number } };
  /** Serial devices; absent or empty without a station. */
  devices?: () => readonly DeviceStatus[];
}

/** A status provider for LiveFeed from the composition root's objects. Every read is O(devices). */
export function liveStatusFrom(s: LiveStatusSources): () => LiveStatus {
  return () => {
    const g = s.guard.snapshot();
    const c = s.status.counters;
    return {
      environment: s.environment,
      ministry: {
        state: s.ministryHealth.state,
        circuit: g.state,
        lastError: s.ministryHealth.lastError ?? g.lastError,
        lastSuccessAt: s.ministryHealth.lastSuccessAt,
        openUntil: g.state === 'open' ? g.openUntil : 0,
        pausedUntil: g.pausedUntil > s.clock() ? g.pausedUntil : 0,
      },
      cache: { entries: s.status.size, hits: c.hits, misses: c.misses, stale: c.stale, inflight: s.status.inflightCount },
      devices: (s.devices?.() ?? []).map((d) => ({
        id: d.id,
        role: d.role,
        gates: [...d.gates],
        path: d.path,
        profile: d.profile,
        state: d.state,
        since: d.since,
        lastError: d.lastError ?? null,
        reopens: d.reopens,
        count: d.count,
      })),
    };
  };
}
