/**
 * The journal's column buffer hands the worker exactly the records it was given, in order
 * (as the worker unpacks them): ids of any length and script, readers or none, many batches,
 * and through a real MessagePort with the batch's buffers transferred.
 */
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { RecordBuffer, transferList, type PackedBatch } from '../../src/journal/record-buffer.js';
import { unpack } from '../../src/journal/journal-worker.js';
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
      expect(unpack(b.take())).toEqual(given.map(packed));
      expect(b.length).toBe(0);
    }
  });

  it('keeps ids longer than a UUID and outside ASCII intact (the id buffer grows)', () => {
    const b = new RecordBuffer(8);
    const given = [rec(1, { decisionId: 'd-1' }), rec(2, { decisionId: 'x'.repeat(500) }), rec(3, { decisionId: 'karar-ğüşiöç-€-😀' }), rec(4, { decisionId: '' }), rec(5)];
    for (const e of given) b.push(e);
    expect(unpack(b.take())).toEqual(given.map(packed));
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
    expect(unpack(b.take())).toEqual([]);
  });

  it('keeps every gate id as given when more distinct ids arrive than it shares', () => {
    const b = new RecordBuffer(3000);
    const given = Array.from({ length: 3000 }, (_, i) => rec(i, { gate: `sprayed-gate-${i}` }));
    for (const e of given) b.push(e);
    expect(unpack(b.take()).map((p) => p[1])).toEqual(given.map((e) => e.gate));
  });

  it('hands off a few typed arrays and the distinct strings, and survives a transfer through a MessagePort', async () => {
    const b = new RecordBuffer(1000);
    const given = Array.from({ length: 700 }, (_, i) => rec(i));
    for (const e of given) b.push(e);
    const batch = b.take();
    // gate-0..2, R0..R4, card, pass, deny, RISKY, RISKLESS, cache: 14 strings for 700 records.
    expect(batch.strings).toHaveLength(14);
    for (const buf of transferList(batch)) expect(buf.byteLength).toBeGreaterThan(0);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<PackedBatch>((resolve) => port2.once('message', resolve));
    port1.postMessage(batch, transferList(batch));
    expect(batch.at.length).toBe(0); // transferred, not copied: the sender's view is detached
    const got = await received;
    port1.close();
    expect(unpack(got)).toEqual(given.map(packed));
    // The buffer's own columns stay usable for the next batch.
    b.push(rec(1));
    expect(unpack(b.take())).toEqual([packed(rec(1))]);
  });
});
