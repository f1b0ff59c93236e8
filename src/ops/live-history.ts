/**
 * The live page's history: the last 24 hours per gate, read from the decision journal.
 *
 *   page ──GET /v1/live/history──> get() ──cached < cacheMs?──> the same answer (or the same promise)
 *                                        └─> journal.summary + journal.history (in the journal's
 *                                            worker thread) ──> per-gate rows, hourly buckets,
 *                                            gates that are not configured
 *
 * Many open pages ask at once and every minute: one read per cacheMs serves them all, and a
 * read in flight is shared. Nothing here runs on a tap: the page asks, the worker reads.
 */
import type { Clock } from '../types.js';
import type { LiveGateHistory, LiveHistory } from './live-wire.js';
import type { JournalReadout } from './sources.js';

export interface LiveHistoryOptions {
  /** The journal's read side; null when the journal is disabled. */
  journal: JournalReadout | null;
  /** The gates the configuration lists (gates.list ids). */
  configuredGates: readonly string[];
  /** Gates the live feed has seen since start (decisions the journal may not hold yet). */
  seenGates?: () => Iterable<string>;
  clock: Clock;
  /** Bucket width, ms. @default 3600000 (an hour) */
  bucketMs?: number;
  /** Buckets in the window. @default 24 */
  buckets?: number;
  /** How long an answer is reused, ms. @default 5000 */
  cacheMs?: number;
}

export class LiveHistorySource {
  private readonly bucketMs: number;
  private readonly buckets: number;
  private readonly cacheMs: number;
  private readonly configured: Set<string>;
  private cached: { at: number; value: Promise<LiveHistory> } | null = null;
  /** Journal reads made (tests check the cache with it). */
  reads = 0;

  constructor(private readonly options: LiveHistoryOptions) {
    this.bucketMs = options.bucketMs ?? 3_600_000;
    this.buckets = options.buckets ?? 24;
    this.cacheMs = options.cacheMs ?? 5000;
    this.configured = new Set(options.configuredGates);
  }

  /** The history, at most cacheMs old. Never rejects: a failed read is reported in `error`. */
  get(): Promise<LiveHistory> {
    const now = this.options.clock();
    if (this.cached !== null && now - this.cached.at < this.cacheMs) return this.cached.value;
    const value = this.read(now);
    this.cached = { at: now, value };
    return value;
  }

  private async read(now: number): Promise<LiveHistory> {
    // Whole buckets on the clock (hours from :00), the last one under way.
    const to = Math.floor(now / this.bucketMs) * this.bucketMs + this.bucketMs;
    const from = to - this.buckets * this.bucketMs;
    const base = { at: now, from, to, bucketMs: this.bucketMs };
    const seen = [...(this.options.seenGates?.() ?? [])];
    const journal = this.options.journal;
    if (journal === null) {
      return { ...base, journal: false, error: null, gates: [], unconfigured: this.unconfigured(seen), idle: [] };
    }
    this.reads++;
    let summary: Awaited<ReturnType<JournalReadout['summary']>>;
    let history: Awaited<ReturnType<JournalReadout['history']>>;
    try {
      [summary, history] = await Promise.all([journal.summary(from, to), journal.history(from, to, this.bucketMs)]);
    } catch (err) {
      // Let the next page ask again rather than serve the failure for cacheMs.
      this.cached = null;
      const message = err instanceof Error ? err.message : String(err);
      return { ...base, journal: true, error: message, gates: [], unconfigured: this.unconfigured(seen), idle: [] };
    }
    const rows = new Map<string, LiveGateHistory>();
    const row = (gate: string): LiveGateHistory => {
      let r = rows.get(gate);
      if (r === undefined) {
        r = { gate, configured: this.configured.has(gate), decisions: 0, pass: 0, deny: 0, topDeny: [], p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0, buckets: Array.from({ length: this.buckets }, () => ({ pass: 0, deny: 0 })) };
        rows.set(gate, r);
      }
      return r;
    };
    for (const s of summary) {
      Object.assign(row(s.gate), {
        decisions: s.decisions,
        pass: s.pass,
        deny: s.deny,
        topDeny: Object.entries(s.reasons)
          .map(([reason, count]) => ({ reason, count }))
          .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
          .slice(0, 3),
        p50Ms: s.p50Ms,
        p95Ms: s.p95Ms,
        p99Ms: s.p99Ms,
        maxMs: s.maxMs,
      });
    }
    for (const h of history) {
      const b = row(h.gate).buckets[Math.floor(h.bucket)];
      if (b !== undefined) (b.pass += h.pass), (b.deny += h.deny);
    }
    const idle = [...this.configured].filter((g) => !rows.has(g));
    for (const g of idle) row(g);
    const gates = [...rows.values()].sort((a, b) => a.gate.localeCompare(b.gate));
    return { ...base, journal: true, error: null, gates, unconfigured: this.unconfigured([...summary.map((s) => s.gate), ...seen]), idle };
  }

  private unconfigured(gates: Iterable<string>): string[] {
    return [...new Set(gates)].filter((g) => !this.configured.has(g)).sort();
  }
}
