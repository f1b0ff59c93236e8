/**
 * The live page's 24-hour history, read from a real journal (its SQLite file and worker
 * thread): per-gate rows with latency percentiles, hourly buckets, the gates the configuration
 * does not list, a short cache shared by every page, and GET /v1/live/history behind the same
 * token rule as the live feed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, type DecisionRecord } from '../../src/journal/journal.js';
import { LiveHistorySource } from '../../src/ops/live-history.js';
import { LiveFeed } from '../../src/ops/live-feed.js';
import { createHttpApp } from '../../src/http/app.js';
import { liveRoutes } from '../../src/http/routes/live.js';
import { createLogger } from '../../src/ops/logger.js';
import { Secret } from '../../src/config/sensitive-value.js';
import { LogCapture } from '../http/helpers.js';
import { decisionEvent, manualTicker, sampleStatus } from './helpers.js';

const HOUR = 3_600_000;
/** 09:30 UTC: the window is 10:00 yesterday to 10:00 today, the current hour last. */
const NOW = Date.UTC(2026, 10, 30, 9, 30, 0);
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function journalWith(records: DecisionRecord[]): Promise<Journal> {
  const journal = new Journal({ file: join(mkdtempSync(join(tmpdir(), 'hes-gate-live-history-')), 'journal.db'), clock: () => NOW, retentionMs: 30 * 86_400_000, maxBytes: 64 * 1024 * 1024, flushIntervalMs: 60_000 });
  closers.push(() => journal.close());
  await journal.ready;
  for (const r of records) journal.record(r);
  await journal.drain();
  return journal;
}

let n = 0;
function rec(o: Partial<DecisionRecord>): DecisionRecord {
  return { at: NOW, gate: 'N1', reader: undefined, kind: 'hes', verdict: 'pass', reason: 'RISKLESS', source: 'cache', elapsedMs: 1, decisionId: `d-${++n}`, ...o };
}

describe('LiveHistorySource', () => {
  it('summarises each gate over 24 hourly buckets and names unconfigured and idle gates', async () => {
    const records = [
      // N1: two hours ago, 3 pass; this hour, 1 pass and 3 deny (two reasons).
      ...[1, 2, 3].map((ms) => rec({ at: NOW - 2 * HOUR, elapsedMs: ms })),
      rec({ at: NOW, elapsedMs: 40 }),
      rec({ at: NOW - 60_000, verdict: 'deny', reason: 'RISKY', elapsedMs: 5 }),
      rec({ at: NOW - 60_000, verdict: 'deny', reason: 'RISKY', elapsedMs: 6 }),
      rec({ at: NOW - 60_000, verdict: 'deny', reason: 'CARD_UNBOUND', elapsedMs: 7 }),
      // X9 is not in the configuration; a decision older than the window is left out.
      rec({ at: NOW - 23 * HOUR, gate: 'X9', verdict: 'deny', reason: 'CODE_INVALID' }),
      rec({ at: NOW - 25 * HOUR, gate: 'OLD' }),
    ];
    const journal = await journalWith(records);
    const source = new LiveHistorySource({ journal, configuredGates: ['N1', 'N2'], seenGates: () => ['N1', 'FEED-ONLY'], clock: () => NOW });
    const h = await source.get();
    expect(h).toMatchObject({ journal: true, error: null, from: Date.UTC(2026, 10, 29, 10), to: Date.UTC(2026, 10, 30, 10), bucketMs: HOUR });
    expect(h.unconfigured).toEqual(['FEED-ONLY', 'X9']);
    expect(h.idle).toEqual(['N2']);
    expect(h.gates.map((g) => [g.gate, g.configured, g.decisions, g.pass, g.deny])).toEqual([
      ['N1', true, 7, 4, 3],
      ['N2', true, 0, 0, 0],
      ['X9', false, 1, 0, 1],
    ]);
    const n1 = h.gates[0]!;
    expect(n1.topDeny).toEqual([{ reason: 'RISKY', count: 2 }, { reason: 'CARD_UNBOUND', count: 1 }]);
    expect([n1.p50Ms, n1.maxMs]).toEqual([5, 40]);
    expect(n1.buckets).toHaveLength(24);
    expect(n1.buckets[23]).toEqual({ pass: 1, deny: 3 });
    expect(n1.buckets[21]).toEqual({ pass: 3, deny: 0 });
    expect(n1.buckets.reduce((a, b) => a + b.pass + b.deny, 0)).toBe(7);
    expect(h.gates[2]!.buckets[0]).toEqual({ pass: 0, deny: 1 });
    // One row per gate and hour from the worker, not one per decision time.
    expect(await journal.history(h.from, h.to, HOUR)).toHaveLength(3);
  });

  it('reads the journal once per cacheMs however many pages ask, and shares a read in flight', async () => {
    const journal = await journalWith([rec({})]);
    let now = NOW;
    const source = new LiveHistorySource({ journal, configuredGates: ['N1'], clock: () => now, cacheMs: 5000 });
    const [a, b] = await Promise.all([source.get(), source.get()]);
    expect(a).toBe(b);
    now += 4999;
    expect(await source.get()).toBe(a);
    expect(source.reads).toBe(1);
    journal.record(rec({ at: now }));
    await journal.drain();
    now += 1;
    const c = await source.get();
    expect(source.reads).toBe(2);
    expect(c.gates[0]!.decisions).toBe(2);
  });

  it('says when the journal is disabled, and when it cannot be read (and then reads again)', async () => {
    const off = await new LiveHistorySource({ journal: null, configuredGates: ['N1'], seenGates: () => ['X1'], clock: () => NOW }).get();
    expect(off).toMatchObject({ journal: false, gates: [], unconfigured: ['X1'] });

    const journal = await journalWith([]);
    await journal.close();
    const source = new LiveHistorySource({ journal, configuredGates: ['N1'], clock: () => NOW });
    const failed = await source.get();
    expect(failed).toMatchObject({ journal: true, gates: [], error: expect.stringContaining('closed') });
    await source.get();
    expect(source.reads).toBe(2);
  });
});

describe('GET /v1/live/history', () => {
  it('needs the operator token when one is set, like the event stream, and answers from the journal', async () => {
    const journal = await journalWith([rec({ gate: 'N1' })]);
    const feed = new LiveFeed({ status: () => sampleStatus(), clock: () => NOW, ticker: manualTicker().ticker });
    feed.decision(decisionEvent({ gate: 'LIVE-ONLY' }));
    const source = new LiveHistorySource({ journal, configuredGates: ['N1'], seenGates: () => feed.gates(), clock: () => NOW });
    const app = createHttpApp({ bodyLimitBytes: 8192, logger: createLogger('info', new LogCapture()) });
    await app.register(liveRoutes, { feed, token: new Secret('operator-token'), history: () => source.get() });
    await app.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => app.close());
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/live/history`;

    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: 'Bearer operator-token' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { gates: Array<{ gate: string; decisions: number }>; unconfigured: string[] };
    expect(body.gates.map((g) => [g.gate, g.decisions])).toEqual([['N1', 1]]);
    expect(body.unconfigured).toEqual(['LIVE-ONLY']);
  });
});
