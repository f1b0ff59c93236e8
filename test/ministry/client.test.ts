import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createMinistryClient } from '../../src/ministry/client.js';
import type { MinistryCallEvent, MinistryClient } from '../../src/ministry/types.js';
import { HesGateError } from '../../src/errors.js';
import { SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { clock, EXPECTED, NOW, rejection, settle, withPlus } from './expected.js';

let sim: Simulator;
let client: MinistryClient;
const calls: MinistryCallEvent[] = [];

beforeAll(async () => {
  sim = await startSimulator({ clock });
  client = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD, clock, onCall: (e) => calls.push(e) });
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

const VISITOR = { city: 'ANKARA', district: 'ÇANKAYA', explicitAddress: 'Kızılay metro istasyonu', location: { latitude: 39.92, longitude: 32.85 } };

describe('every sample code through every single-code endpoint', () => {
  for (const e of EXPECTED) {
    it(`${e.code}`, async () => {
      expect(await settle(client.checkHesCode(e.code))).toEqual(e.lookup);
      expect(await settle(client.checkEmployeeHesCode(e.code))).toEqual(e.lookup);
      expect(await settle(client.checkVisitorHesCode(e.code, VISITOR))).toEqual(e.lookup);
      expect(await settle(client.checkHesCodePlus(e.code))).toEqual(withPlus(e));
    });
  }

  it('answers the live prefix the same way', async () => {
    const live = createMinistryClient({ baseUrl: sim.liveUrl, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
    try {
      expect(await live.checkHesCode(SAMPLE.RISKY)).toMatchObject({ kind: 'status', status: 'RISKY' });
    } finally {
      await live.close();
    }
  });

  it('keeps no identity or names in results', async () => {
    const r = await client.checkHesCodePlus(SAMPLE.PLUS_VACCINATED);
    expect(JSON.stringify(r)).not.toMatch(/masked|\*\*\*/);
  });

  it('follows a status change while running (setCode, removeCode)', async () => {
    sim.setCode(SAMPLE.RISKLESS, { status: 'RISKY', expirationDate: '2070-12-31T20:59:59Z', note: 'turned risky' });
    expect(await client.checkHesCode(SAMPLE.RISKLESS)).toMatchObject({ status: 'RISKY' });
    sim.removeCode(SAMPLE.RISKLESS);
    expect(await client.checkHesCode(SAMPLE.RISKLESS)).toEqual({ kind: 'not-found' });
    sim.setCode(SAMPLE.RISKLESS, { status: 'RISKLESS', note: 'back' });
    expect(await client.checkHesCode(SAMPLE.RISKLESS)).toMatchObject({ status: 'RISKLESS' });
  });

  it('maps an unknown errorKey to HG_MINISTRY_UNKNOWN_ERROR', async () => {
    sim.setCode('K1L2000000', { errorKey: 'hescodeblocked', note: 'an errorKey nobody documented' });
    const err = await rejection(client.checkHesCode('K1L2000000'));
    expect(err.code).toBe('HG_MINISTRY_UNKNOWN_ERROR');
    expect(err.details).toMatchObject({ endpoint: 'check-hes-code', errorKey: 'hescodeblocked' });
    sim.removeCode('K1L2000000');
  });
});

describe('visitor checks', () => {
  it('sends city, district, address and location', async () => {
    const [[event], result] = await Promise.all([once(sim, 'request'), client.checkVisitorHesCode(SAMPLE.RISKY, VISITOR)]);
    expect(event).toEqual({ endpoint: 'check-visitor-hes-code', codes: [SAMPLE.RISKY] });
    expect(result).toMatchObject({ status: 'RISKY' });
  });

  it('works without a location', async () => {
    const { location: _unused, ...noLocation } = VISITOR;
    expect(await client.checkVisitorHesCode(SAMPLE.RISKY, noLocation)).toMatchObject({ status: 'RISKY' });
  });

  it('a missing city or district is the ministry\'s validation error, naming the fields', async () => {
    const err = await rejection(client.checkVisitorHesCode(SAMPLE.RISKY, { ...VISITOR, city: '', district: ' ' }));
    expect(err.code).toBe('HG_MINISTRY_UNKNOWN_ERROR');
    expect(err.details).toMatchObject({ errorKey: 'validation', fields: ['city', 'district'] });
  });
});

describe('bulk', () => {
  const absent = (i: number): string => `Q${String(i).padStart(9, '0')}`;

  it('maps success_map and unsuccess_map, with plus fields', async () => {
    const codes = EXPECTED.map((e) => e.code);
    const plain = await client.checkHesCodes(codes);
    const plus = await client.checkHesCodesPlus(codes);
    for (const e of EXPECTED) {
      const p = plain.get(e.code);
      const q = plus.get(e.code);
      expect(p instanceof HesGateError ? { error: p.code } : p, e.code).toEqual(e.lookup);
      expect(q instanceof HesGateError ? { error: q.code } : q, e.code).toEqual(withPlus(e));
    }
    expect(plain.size).toBe(codes.length);
  });

  it(`splits ${1201} codes into ceil(N/500) = 3 calls, one after another`, async () => {
    sim.resetCounts();
    const before = calls.length;
    const codes = [SAMPLE.RISKY, ...Array.from({ length: 1199 }, (_, i) => absent(i)), SAMPLE.EXPIRED];
    const result = await client.checkHesCodes(codes);
    expect(result.size).toBe(1201);
    expect(result.get(SAMPLE.RISKY)).toMatchObject({ status: 'RISKY' });
    expect(result.get(SAMPLE.EXPIRED)).toEqual({ kind: 'expired' });
    expect(result.get(absent(700))).toEqual({ kind: 'not-found' });
    expect(sim.counts().byPath['check-hes-codes']).toBe(3);
    expect(calls.slice(before).map((c) => [c.endpoint, c.outcome, c.codes])).toEqual([
      ['check-hes-codes', 'ok', 500],
      ['check-hes-codes', 'ok', 500],
      ['check-hes-codes', 'ok', 201],
    ]);
  });

  it('asks each code once even when given twice, and makes no call for none', async () => {
    sim.resetCounts();
    expect((await client.checkHesCodes([SAMPLE.RISKY, SAMPLE.RISKY])).size).toBe(1);
    expect((await client.checkHesCodes([])).size).toBe(0);
    expect(sim.counts()).toMatchObject({ total: 1, byCode: { [SAMPLE.RISKY]: 1 } });
  });

  it('an unknown errorKey in unsuccess_map is an error for that code only', async () => {
    sim.setCode('K1L2000000', { errorKey: 'hescodeblocked', note: 'undocumented errorKey' });
    const r = await client.checkHesCodes(['K1L2000000', SAMPLE.RISKY]);
    const err = r.get('K1L2000000');
    expect(err).toBeInstanceOf(HesGateError);
    expect((err as HesGateError).code).toBe('HG_MINISTRY_UNKNOWN_ERROR');
    expect(r.get(SAMPLE.RISKY)).toMatchObject({ status: 'RISKY' });
    sim.removeCode('K1L2000000');
  });

  it('rejects the whole promise when one chunk call fails', async () => {
    // Every 2nd ministry request fails: chunk 1 passes, chunk 2 gets 503.
    sim.setFaults({ failRate: 0.5 });
    try {
      const err = await rejection(client.checkHesCodes(Array.from({ length: 900 }, (_, i) => absent(i))));
      expect(err.code).toBe('HG_MINISTRY_SERVER_ERROR');
      expect(err.details).toMatchObject({ endpoint: 'check-hes-codes', status: 503 });
    } finally {
      sim.resetFaults();
    }
  });
});

describe('onCall and connections', () => {
  it('reports one event per HTTP call with the outcome', async () => {
    const before = calls.length;
    await client.checkHesCode(SAMPLE.RISKY);
    await client.checkHesCode(SAMPLE.NOT_FOUND);
    await client.checkHesCodePlus(SAMPLE.EXPIRED);
    await settle(client.checkEmployeeHesCode(SAMPLE.UNKNOWN_STATUS));
    const got = calls.slice(before);
    expect(got.map((c) => [c.endpoint, c.outcome, c.codes])).toEqual([
      ['check-hes-code', 'ok', 1],
      ['check-hes-code', 'not-found', 1],
      ['check-hes-code-plus', 'expired', 1],
      ['check-employee-hes-code', 'HG_MINISTRY_UNKNOWN_STATUS', 1],
    ]);
    for (const c of got) expect(c.durationMs).toBeGreaterThan(0);
  });

  it('reuses one keep-alive connection for many sequential calls', async () => {
    const s = await startSimulator({ clock });
    const c = createMinistryClient({ baseUrl: s.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
    let sockets = 0;
    s.on('connection', () => sockets++);
    try {
      for (let i = 0; i < 200; i++) await c.checkHesCode(i % 2 === 0 ? SAMPLE.RISKY : SAMPLE.NOT_FOUND);
      await c.checkHesCodes([SAMPLE.RISKY, SAMPLE.EXPIRED]);
      // undici's pool may open a second socket while the first is still settling its first
      // request; after that every call rides the same keep-alive sockets.
      expect(sockets).toBeLessThanOrEqual(2);
      expect(s.counts()).toMatchObject({ total: 201, connections: sockets });
    } finally {
      await c.close();
      await s.close();
    }
  });

  it('opens at most `connections` sockets under concurrency', async () => {
    const s = await startSimulator({ clock });
    const c = createMinistryClient({ baseUrl: s.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD, connections: 4 });
    try {
      await Promise.all(Array.from({ length: 100 }, () => c.checkHesCode(SAMPLE.RISKLESS)));
      await Promise.all(Array.from({ length: 100 }, () => c.checkHesCode(SAMPLE.RISKLESS)));
      expect(s.counts().total).toBe(200);
      expect(s.counts().connections).toBeLessThanOrEqual(4);
    } finally {
      await c.close();
      await s.close();
    }
  });

  it('close() is graceful and idempotent', async () => {
    const c = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
    const pending = c.checkHesCode(SAMPLE.RISKY);
    await Promise.all([c.close(), c.close()]);
    expect(await pending).toMatchObject({ status: 'RISKY' });
  });

  it('refuses a base URL that is not http(s), without echoing it', () => {
    expect(() => createMinistryClient({ baseUrl: 'ftp://u:secret@host/x/', user: 'u', password: 'p' })).toThrow(/must be http or https/);
    try {
      createMinistryClient({ baseUrl: 'not a url secret', user: 'u', password: 'p' });
    } catch (err) {
      expect((err as HesGateError).code).toBe('HG_CONFIG_INVALID');
      expect((err as Error).message).not.toContain('secret');
    }
  });

  it('the simulator clock is the one given (NOW)', () => {
    expect(new Date(NOW).toISOString()).toBe('2025-01-15T09:30:00.000Z');
  });
});
