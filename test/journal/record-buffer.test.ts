/**
 * The journal's column buffer hands the worker exactly the records it was given, in order, in
 * the worker's wire format: ids of any length and script, readers or none, many batches.
 */
import { describe, expect, it } from 'vitest';
import { RecordBuffer } from '../../src/journal/record-buffer.js';
import type { DecisionRecord } from '../../src/journal/journal.js';

function rec(i: number, o: Partial<DecisionRecord> = {}): DecisionRecord {
  return { at: 1_780_000_000_000 + i, gate: `gate-${i % 3}`, reader: i % 2 === 0 ? `R${i % 5}` : undefined, kind: 'card', verdict: i % 4 === 0 ? 'deny' : 'pass', reason: i % 4 === 0 ? 'RISKY' : 'RISKLESS', source: 'cache', elapsedMs: i / 7, decisionId: `${i}-5f0c3a52-9d7e-4d59-8a43-3b1a6f1f2c11`, ...o };
}

function packed(e: DecisionRecord): unknown[] {
  return [e.at, e.gate, e.reader ?? null, e.kind, e.verdict, e.reason, e.source, Math.round(e.elapsedMs * 1000), e.decisionId];
}

describe('journal record buffer', () => {
  it('gives back what it was given, in order, batch after batch', () => {
    const b = new RecordBuffer(50);
    for (let batch = 0; batch < 3; batch++) {
      const given = Array.from({ length: 50 - batch * 20 }, (_, i) => rec(batch * 100 + i));
      for (const e of given) b.push(e);
      expect(b.length).toBe(given.length);
      expect(b.take()).toEqual(given.map(packed));
      expect(b.length).toBe(0);
    }
  });

  it('keeps ids longer than a UUID and outside ASCII intact (the id buffer grows)', () => {
    const b = new RecordBuffer(8);
    const given = [rec(1, { decisionId: 'd-1' }), rec(2, { decisionId: 'x'.repeat(500) }), rec(3, { decisionId: 'karar-ğüşiöç-€-😀' }), rec(4, { decisionId: '' }), rec(5)];
    for (const e of given) b.push(e);
    expect(b.take()).toEqual(given.map(packed));
  });

  it('says when it is full and refuses more', () => {
    const b = new RecordBuffer(2);
    b.push(rec(1));
    expect(b.full).toBe(false);
    b.push(rec(2));
    expect(b.full).toBe(true);
    expect(() => b.push(rec(3))).toThrow(RangeError);
    b.clear();
    expect(b.length).toBe(0);
    expect(b.take()).toEqual([]);
  });

  it('keeps every gate id as given when more distinct ids arrive than it shares', () => {
    const b = new RecordBuffer(3000);
    const given = Array.from({ length: 3000 }, (_, i) => rec(i, { gate: `sprayed-gate-${i}` }));
    for (const e of given) b.push(e);
    expect(b.take().map((p) => p[1])).toEqual(given.map((e) => e.gate));
  });
});
