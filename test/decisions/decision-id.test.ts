import { describe, expect, it } from 'vitest';
import { decisionIds, decisionTimeOf } from '../../src/decisions/decision-id.js';

/** RFC 9562 version 7: version nibble 7, variant bits 10. */
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const T = Date.UTC(2021, 5, 1, 8, 30); // 2021-06-01T08:30:00Z

/** The Unix ms time in an id's first 48 bits. */
const timeOf = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
/** The id's 12-bit counter. */
const counterOf = (id: string): number => parseInt(id.slice(15, 18), 16);

describe('decision ids (UUID v7)', () => {
  it('are version 7, variant 10, and carry the decision time', () => {
    const ids = decisionIds();
    const id = ids.next(T);
    expect(id).toMatch(V7);
    expect(timeOf(id)).toBe(T);
    expect(new Date(timeOf(ids.next(T + 1234.9))).toISOString()).toBe('2021-06-01T08:30:01.234Z');
    expect(decisionTimeOf(id)).toBe(T);
    expect(decisionTimeOf('5f0c3a52-9d7e-4d59-8a43-3b1a6f1f2c11')).toBeUndefined(); // a v4 id
    expect(decisionTimeOf('not an id')).toBeUndefined();
  });

  it('count within a millisecond and start again at the next', () => {
    const ids = decisionIds();
    const a = [ids.next(T), ids.next(T), ids.next(T)];
    expect(a.map(counterOf)).toEqual([0, 1, 2]);
    expect(counterOf(ids.next(T + 1))).toBe(0);
  });

  it('only increase, also when the clock steps back or 4,096 ids share a millisecond', () => {
    const ids = decisionIds();
    const out: string[] = [];
    for (let i = 0; i < 5000; i++) out.push(ids.next(T));
    out.push(ids.next(T - 60_000)); // clock stepped back a minute
    out.push(ids.next(T + 10));
    for (let i = 1; i < out.length; i++) expect(out[i]! > out[i - 1]!, `id ${i}`).toBe(true);
    expect(timeOf(out[4095]!)).toBe(T);
    expect(timeOf(out[4096]!)).toBe(T + 1); // the counter ran out: on to the next millisecond
    expect(timeOf(out[5000]!)).toBe(T + 1); // not back in time
    expect(timeOf(out[5001]!)).toBe(T + 10);
    expect(out.every((id) => V7.test(id))).toBe(true);
  });

  it('take 62 random bits per id from the pool, refilled when used up', () => {
    let fills = 0;
    const ids = decisionIds((b) => {
      fills++;
      b.fill(0xff);
    });
    const id = ids.next(T);
    expect(id.slice(19)).toBe('bfff-ffffffffffff'); // variant bits 10, the rest random
    for (let i = 1; i < 1024; i++) ids.next(T + i);
    expect(fills).toBe(1);
    ids.next(T + 2000);
    expect(fills).toBe(2);
  });

  it('differ in their random bits between two generators at the same time (two stations)', () => {
    const a = decisionIds();
    const b = decisionIds();
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      seen.add(a.next(T + i));
      seen.add(b.next(T + i));
    }
    expect(seen.size).toBe(20_000);
  });
});
