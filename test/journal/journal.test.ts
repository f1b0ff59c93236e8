/**
 * The decision journal against a real SQLite file and its real worker thread: records, filters
 * and pages, per-gate summaries, retention by age and by size, and no personal data in the file.
 */
import { mkdtempSync, readFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, type DecisionRecord } from '../../src/journal/journal.js';
import type { Timers } from '../../src/types.js';

const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);
const journals: Journal[] = [];

function openJournal(overrides: Partial<ConstructorParameters<typeof Journal>[0]> = {}): { journal: Journal; file: string; flushed: (n: number) => Promise<void> } {
  const file = join(mkdtempSync(join(tmpdir(), 'hes-gate-journal-')), 'journal.db');
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const journal = new Journal({
    file,
    clock: () => T0,
    retentionMs: 30 * 86_400_000,
    maxBytes: 512 * 1024 * 1024,
    flushIntervalMs: 60_000,
    ...overrides,
    onFlushed: (committed) => {
      for (const w of [...waiters]) if (committed >= w.n) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
    },
  });
  journals.push(journal);
  const flushed = (n: number): Promise<void> => {
    journal.flush();
    return journal.committed >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
  };
  return { journal, file, flushed };
}

function rec(i: number, o: Partial<DecisionRecord> = {}): DecisionRecord {
  return { at: T0 + i * 1000, gate: i % 2 === 0 ? 'N1' : 'N2', reader: i % 3 === 0 ? 'N1/card' : undefined, kind: 'hes', verdict: i % 5 === 0 ? 'deny' : 'pass', reason: i % 5 === 0 ? 'RISKY' : 'RISKLESS', source: 'cache', elapsedMs: (i % 100) / 10, decisionId: `d-${i}`, ...o };
}

afterEach(async () => {
  for (const j of journals.splice(0)) await j.close();
});

describe('decision journal', () => {
  it('records decisions and reads them back by time, gate, verdict and reason, in pages', async () => {
    const { journal, flushed } = openJournal();
    await journal.ready;
    for (let i = 0; i < 250; i++) journal.record(rec(i));
    await flushed(250);
    const all = await journal.query({ limit: 1000 });
    expect(all.entries).toHaveLength(250);
    expect(all.next).toBeNull();
    expect(all.entries[3]).toEqual({ at: T0 + 3000, gate: 'N2', reader: 'N1/card', kind: 'hes', verdict: 'pass', reason: 'RISKLESS', source: 'cache', elapsedMs: 0.3, decisionId: 'd-3' });

    const denies = await journal.query({ limit: 1000, gate: 'N1', verdict: 'deny', reason: 'RISKY', from: T0 + 10_000, to: T0 + 100_000 });
    expect(denies.entries.map((e) => e.decisionId)).toEqual(['d-10', 'd-20', 'd-30', 'd-40', 'd-50', 'd-60', 'd-70', 'd-80', 'd-90']);

    const seen: string[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await journal.query({ limit: 40, ...(after === undefined ? {} : { after }) });
      seen.push(...page.entries.map((e) => e.decisionId));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual(all.entries.map((e) => e.decisionId));
  });

  it('summarises each gate: counts, deny reasons and latency percentiles', async () => {
    const { journal, flushed } = openJournal();
    for (let i = 0; i < 100; i++) journal.record(rec(i, { gate: 'N1', elapsedMs: i + 1, verdict: i < 10 ? 'deny' : 'pass', reason: i < 10 ? 'CARD_UNBOUND' : 'RISKLESS' }));
    await flushed(100);
    const [n1] = await journal.summary(T0, T0 + 86_400_000);
    expect(n1).toEqual({ gate: 'N1', decisions: 100, pass: 90, deny: 10, reasons: { CARD_UNBOUND: 10 }, p50Ms: 51, p95Ms: 96, p99Ms: 100, maxMs: 100 });
  });

  it('deletes records older than the retention', async () => {
    const day = 86_400_000;
    const { journal, flushed } = openJournal({ retentionMs: 7 * day, clock: () => T0 + 10 * day });
    journal.record(rec(1, { at: T0 }));
    journal.record(rec(2, { at: T0 + 2 * day }));
    journal.record(rec(3, { at: T0 + 5 * day }));
    journal.record(rec(4, { at: T0 + 9 * day }));
    await flushed(4);
    expect(await journal.prune()).toBe(2);
    expect((await journal.query({ limit: 10 })).entries.map((e) => e.decisionId)).toEqual(['d-3', 'd-4']);
  });

  it('applies the retention by itself every pruneIntervalMs, as of the journal\'s clock', async () => {
    const day = 86_400_000;
    let now = T0;
    // The journal's timers, driven by the test: `due()` runs what is scheduled, as its time would.
    const pending = new Map<object, { fn: () => void; ms: number }>();
    const timers: Timers = {
      setTimeout: (fn, ms) => {
        const handle = {};
        pending.set(handle, { fn, ms });
        return handle;
      },
      clearTimeout: (handle) => void pending.delete(handle as object),
    };
    const due = (): void => {
      const ready = [...pending];
      pending.clear();
      for (const [, t] of ready) t.fn();
    };
    const { journal, flushed } = openJournal({ retentionMs: 7 * day, clock: () => now, timers, pruneIntervalMs: 3_600_000 });
    expect([...pending.values()].map((t) => t.ms)).toEqual([3_600_000]);
    journal.record(rec(1, { at: T0 }));
    journal.record(rec(2, { at: T0 + 2 * day }));
    journal.record(rec(3, { at: T0 + 9 * day }));
    await flushed(3);
    now = T0 + 10 * day;
    due();
    // Messages to the worker are handled in order: the stats are read after the prune.
    expect(await journal.stats()).toMatchObject({ entries: 1, pruned: 2 });
    expect((await journal.query({ limit: 10 })).entries.map((e) => e.decisionId)).toEqual(['d-3']);
    // And the next one is scheduled.
    expect(pending.size).toBe(1);
    now = T0 + 17 * day;
    due();
    expect(await journal.stats()).toMatchObject({ entries: 0, pruned: 3 });
  });

  it('keeps the file under its size cap, dropping the oldest records first', async () => {
    const cap = 1024 * 1024;
    const { journal, file, flushed } = openJournal({ maxBytes: cap, batchSize: 5000 });
    for (let i = 0; i < 40_000; i++) journal.record(rec(i));
    await flushed(40_000);
    const before = await journal.stats();
    expect(before.bytes).toBeGreaterThan(cap);
    await journal.prune();
    const after = await journal.stats();
    expect(after.bytes).toBeLessThanOrEqual(cap);
    expect(after.entries).toBeGreaterThan(0);
    expect(after.entries).toBeLessThan(40_000);
    const first = (await journal.query({ limit: 1 })).entries[0]!;
    expect(first.decisionId).toBe(`d-${40_000 - after.entries}`);
    await journal.close();
    expect(statSync(file).size).toBeLessThanOrEqual(cap + 64 * 1024);
  });

  it('drops and counts records beyond its bound instead of growing while the writer is behind', async () => {
    const { journal } = openJournal({ maxPending: 100, batchSize: 1_000_000 });
    for (let i = 0; i < 150; i++) journal.record(rec(i));
    expect(journal.dropped).toBe(50);
  });

  it('reports a journal file it cannot open, without throwing at the decision', async () => {
    const errors: Error[] = [];
    const { journal } = openJournal({ file: '/proc/no-such-dir/journal.db', onError: (e) => errors.push(e) });
    await expect(journal.ready).rejects.toMatchObject({ code: 'HG_JOURNAL' });
    journal.record(rec(1));
    expect(errors).toHaveLength(1);
    expect(existsSync('/proc/no-such-dir')).toBe(false);
  });

  it('holds no code, card id or QR content in its file', async () => {
    const { journal, file, flushed } = openJournal();
    for (let i = 0; i < 50; i++) journal.record(rec(i, { kind: i % 3 === 0 ? 'card' : i % 3 === 1 ? 'qr' : 'hes' }));
    await flushed(50);
    await journal.close();
    const bytes = readFileSync(file).toString('latin1');
    expect(bytes).toContain('d-49');
    expect(bytes).not.toMatch(/[A-Z0-9]{10}/);
  });
});
