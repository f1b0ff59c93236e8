import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createMinistryClient } from '../../src/ministry/client.js';
import { SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { rejection } from './expected.js';

const dir = new URL('../fixtures/tls/', import.meta.url);
const cert = readFileSync(new URL('localhost-cert.pem', dir));
const key = readFileSync(new URL('localhost-key.pem', dir));

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tls: { key, cert } });
});
afterAll(() => sim.close());

describe('HTTPS', () => {
  it('works with the test certificate as extra CA and reuses connections', async () => {
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/services\/g2g\/test\/saglik\/hes\/$/);
    const c = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD, ca: cert });
    try {
      for (let i = 0; i < 50; i++) expect(await c.checkHesCode(SAMPLE.RISKY)).toMatchObject({ status: 'RISKY' });
      expect((await c.checkHesCodesPlus([SAMPLE.RISKY, SAMPLE.NOT_FOUND])).size).toBe(2);
      expect(sim.counts().total).toBe(51);
      expect(sim.counts().connections).toBeGreaterThanOrEqual(1);
      expect(sim.counts().connections).toBeLessThanOrEqual(2);
    } finally {
      await c.close();
    }
  });

  it('refuses an untrusted certificate: HG_MINISTRY_CONNECTION', async () => {
    const c = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
    try {
      const err = await rejection(c.checkHesCode(SAMPLE.RISKY));
      expect(err.code).toBe('HG_MINISTRY_CONNECTION');
      expect(err.details).toMatchObject({ transportCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    } finally {
      await c.close();
    }
  });
});
