import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createMinistryClient, type MinistryClientOptions } from '../../src/ministry/client.js';
import type { MinistryClient } from '../../src/ministry/types.js';
import type { HesGateError } from '../../src/errors.js';
import { SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { clock, rejection } from './expected.js';

let sim: Simulator;
let client: MinistryClient;
const seen: HesGateError[] = [];

function makeClient(extra: Partial<MinistryClientOptions> = {}): MinistryClient {
  return createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD, clock, ...extra });
}

/** The error a call rejects with; kept for the no-secrets check at the end. */
async function fails(p: Promise<unknown>): Promise<HesGateError> {
  const err = await rejection(p);
  seen.push(err);
  return err;
}

beforeAll(async () => {
  sim = await startSimulator({ clock });
  client = makeClient({ headersTimeoutMs: 100, bodyTimeoutMs: 100 });
});
afterEach(() => sim.resetFaults());
afterAll(async () => {
  await client.close();
  await sim.close();
});

describe('every fault knob maps to its error code', () => {
  it('hang → HG_MINISTRY_TIMEOUT (headers timeout)', async () => {
    sim.setFaults({ hang: true });
    const [err] = await Promise.all([fails(client.checkHesCode(SAMPLE.RISKLESS)), once(sim, 'request')]);
    expect(err.code).toBe('HG_MINISTRY_TIMEOUT');
    expect(err.details).toMatchObject({ endpoint: 'check-hes-code', transportCode: 'UND_ERR_HEADERS_TIMEOUT' });
  });

  it('latency beyond the timeout → HG_MINISTRY_TIMEOUT; within it → answered, and the duration shows it', async () => {
    sim.setFaults({ latencyMs: 1000 });
    expect((await fails(client.checkHesCode(SAMPLE.RISKLESS))).code).toBe('HG_MINISTRY_TIMEOUT');
    sim.setFaults({ latencyMs: 30 });
    const durations: number[] = [];
    const c = makeClient({ onCall: (e) => durations.push(e.durationMs) });
    try {
      expect(await c.checkHesCode(SAMPLE.RISKY)).toMatchObject({ status: 'RISKY' });
      expect(durations[0]).toBeGreaterThanOrEqual(29);
    } finally {
      await c.close();
    }
  });

  it('reset → HG_MINISTRY_CONNECTION', async () => {
    sim.setFaults({ reset: true });
    const err = await fails(client.checkHesCode(SAMPLE.RISKLESS));
    expect(err.code).toBe('HG_MINISTRY_CONNECTION');
    expect(err.details).toMatchObject({ endpoint: 'check-hes-code' });
  });

  it('503 and 500 → HG_MINISTRY_SERVER_ERROR with the status', async () => {
    for (const status of [503, 500]) {
      sim.setFaults({ status });
      const err = await fails(client.checkHesCodePlus(SAMPLE.RISKLESS));
      expect(err.code).toBe('HG_MINISTRY_SERVER_ERROR');
      expect(err.details).toMatchObject({ endpoint: 'check-hes-code-plus', status });
    }
  });

  it('429 → HG_MINISTRY_RATE_LIMITED with retryAfterMs (seconds and HTTP-date)', async () => {
    sim.setFaults({ rateLimit: { retryAfterSeconds: 7 } });
    let err = await fails(client.checkHesCode(SAMPLE.RISKLESS));
    expect(err.code).toBe('HG_MINISTRY_RATE_LIMITED');
    expect(err.details).toMatchObject({ retryAfterMs: 7000, status: 429 });
    // Simulator and client share the clock: the HTTP-date is exactly 7 s ahead.
    sim.setFaults({ rateLimit: { retryAfterSeconds: 7, httpDate: true } });
    err = await fails(client.checkHesCodes([SAMPLE.RISKLESS]));
    expect(err.code).toBe('HG_MINISTRY_RATE_LIMITED');
    expect(err.details).toMatchObject({ retryAfterMs: 7000, endpoint: 'check-hes-codes' });
  });

  it('truncated and garbage bodies → HG_MINISTRY_BAD_RESPONSE, on 200 and 400 answers and bulk', async () => {
    for (const body of ['truncated', 'garbage'] as const) {
      sim.setFaults({ body });
      expect((await fails(client.checkHesCode(SAMPLE.RISKLESS))).code).toBe('HG_MINISTRY_BAD_RESPONSE');
      expect((await fails(client.checkHesCode(SAMPLE.NOT_FOUND))).code).toBe('HG_MINISTRY_BAD_RESPONSE');
      expect((await fails(client.checkHesCodesPlus([SAMPLE.RISKLESS, SAMPLE.RISKY]))).code).toBe('HG_MINISTRY_BAD_RESPONSE');
    }
  });

  it('rejectAuth → HG_MINISTRY_AUTH', async () => {
    sim.setFaults({ rejectAuth: true });
    const err = await fails(client.checkHesCode(SAMPLE.RISKLESS));
    expect(err.code).toBe('HG_MINISTRY_AUTH');
    expect(err.message).toMatch(/refused the credentials/);
  });

  it('a wrong password → HG_MINISTRY_AUTH, without echoing the credentials', async () => {
    const c = makeClient({ password: 'Wr0ng-Pa55word' });
    try {
      const err = await fails(c.checkEmployeeHesCode(SAMPLE.RISKLESS));
      expect(err.code).toBe('HG_MINISTRY_AUTH');
      expect(err.details).toMatchObject({ status: 401 });
      expect(`${err.message} ${JSON.stringify(err.details)}`).not.toMatch(/Wr0ng-Pa55word|HESGATE-TEST/);
    } finally {
      await c.close();
    }
  });

  it('a wrong base path → HG_MINISTRY_HTTP_STATUS 404', async () => {
    const c = makeClient({ baseUrl: `${sim.origin}/services/g2g/tset/saglik/hes` });
    try {
      const err = await fails(c.checkHesCode(SAMPLE.RISKLESS));
      expect(err.code).toBe('HG_MINISTRY_HTTP_STATUS');
      expect(err.details).toMatchObject({ status: 404, endpoint: 'check-hes-code' });
      expect(err.message).toMatch(/base URL/);
    } finally {
      await c.close();
    }
  });

  it('failRate fails exactly that share of calls, deterministically', async () => {
    sim.setFaults({ failRate: 0.25 });
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      outcomes.push(await client.checkHesCode(SAMPLE.RISKY).then(() => 'ok', (e: HesGateError) => e.code));
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'HG_MINISTRY_SERVER_ERROR', 'ok', 'ok', 'ok', 'HG_MINISTRY_SERVER_ERROR']);
  });

  it('a refused connection → HG_MINISTRY_CONNECTION', async () => {
    const gone = await startSimulator();
    const url = gone.url;
    await gone.close();
    const c = makeClient({ baseUrl: url });
    try {
      const err = await fails(c.checkHesCode(SAMPLE.RISKLESS));
      expect(err.code).toBe('HG_MINISTRY_CONNECTION');
      expect(err.details).toMatchObject({ transportCode: 'ECONNREFUSED' });
    } finally {
      await c.close();
    }
  });

  it('the client recovers once the fault is gone', async () => {
    sim.setFaults({ reset: true });
    await fails(client.checkHesCode(SAMPLE.RISKY));
    sim.resetFaults();
    expect(await client.checkHesCode(SAMPLE.RISKY)).toMatchObject({ status: 'RISKY' });
  });
});

describe('privacy of errors', () => {
  it('no error message or detail contains a full code or the password', async () => {
    // Errors about a specific code, too.
    seen.push(await rejection(client.checkHesCode(SAMPLE.UNKNOWN_STATUS)));
    sim.setCode('K1L2000000', { errorKey: 'hescodeblocked', note: 'undocumented errorKey' });
    seen.push(await rejection(client.checkHesCode('K1L2000000')));
    const bulk = await client.checkHesCodes(['K1L2000000', SAMPLE.UNKNOWN_STATUS]);
    for (const v of bulk.values()) seen.push(v as HesGateError);
    expect(seen.length).toBeGreaterThan(15);
    const codes = [...Object.values(SAMPLE), 'K1L2000000'];
    for (const err of seen) {
      const text = `${err.message} ${JSON.stringify(err.details)} ${String((err.cause as Error | undefined)?.message ?? '')}`;
      for (const code of codes) expect(text, err.code).not.toContain(code);
      expect(text).not.toContain(SIMULATOR_PASSWORD);
      expect(text).not.toContain(SIMULATOR_USER);
    }
    expect(seen.find((e) => e.code === 'HG_MINISTRY_UNKNOWN_STATUS')?.message).toContain('N4P5-****-**');
  });
});
