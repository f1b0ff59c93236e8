/**
 * Bad input never crashes the service nor becomes a 500: a seeded stream of malformed bodies,
 * odd strings and wrong types, each answered with a decision or a coded 4xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate } from './helpers.js';

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['|', ']Q1', ']C0', '-', ' ', '\u0000', '\u001d', '\r\n', 'A1B2345678', 'İ', 'ş', '😀', '"', '\\', '{', '}', '04:A1', 'null', '%00', '\u202e'];

function randomString(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 8);
  for (let i = 0; i < n; i++) s += r() < 0.5 ? PIECES[Math.floor(r() * PIECES.length)] : String.fromCharCode(Math.floor(r() * 0x2fff));
  return s;
}

function randomValue(r: () => number): unknown {
  const k = Math.floor(r() * 7);
  if (k === 0) return randomString(r);
  if (k === 1) return Math.floor(r() * 1e6);
  if (k === 2) return null;
  if (k === 3) return [randomString(r)];
  if (k === 4) return { x: randomString(r) };
  if (k === 5) return r() < 0.5;
  return randomString(r).repeat(Math.floor(r() * 40));
}

function randomBody(r: () => number): string {
  const k = Math.floor(r() * 5);
  if (k === 0) return randomString(r); // not JSON at all, mostly
  if (k === 1) return JSON.stringify(randomValue(r));
  const body: Record<string, unknown> = {};
  if (r() < 0.8) body.gate = r() < 0.7 ? 'G1' : randomValue(r);
  for (const field of ['hesCode', 'qr', 'card', 'extra']) if (r() < 0.4) body[field] = randomValue(r);
  return JSON.stringify(body);
}

describe('garbage on the decision API', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false } });
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it('answers 400 bodies of noise with a decision or a coded 4xx, never a 500', async () => {
    const r = rng(20211001);
    const seen = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const res = await t.post(randomBody(r));
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      if (res.status === 200) {
        expect(res.body.verdict).toMatch(/^(pass|deny)$/);
      } else {
        expect([400, 413, 415, 422]).toContain(res.status);
        expect(res.body.error.code).toMatch(/^HG_[A-Z_]+$/);
      }
    }
    expect(seen.get(200)).toBeGreaterThan(0);
    expect(seen.get(400)).toBeGreaterThan(100);
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
