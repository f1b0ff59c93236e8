/**
 * Issue 20, item 5: which token each read-only route takes, through the whole station.
 * - The live feed and its history take the admin token; with only the API token set, that one
 *   (they answered anyone before).
 * - `/openapi.json` takes either token once any is set; without tokens (loopback only) it is open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate } from './helpers.js';

const API = 'auth-gaps-test-api-token';
const ADMIN = 'auth-gaps-test-admin-token';
const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

/** The status of GET `path` over a real socket; a stream that opened is closed at once. */
async function statusOf(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; code: string | null }> {
  const abort = new AbortController();
  const res = await fetch(`${url}${path}`, { headers, signal: abort.signal });
  if (res.status === 200) {
    abort.abort();
    return { status: 200, code: null };
  }
  return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code };
}

describe('only HES_GATE_API_TOKEN set', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false } }, { HES_GATE_API_TOKEN: API });
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it.each(['/v1/live/events', '/v1/live/history'])('%s needs the API token', async (path) => {
    expect(await statusOf(t.url, path)).toEqual({ status: 401, code: 'HG_UNAUTHORIZED' });
    expect(await statusOf(t.url, path, bearer('wrong-token-wrong-token'))).toEqual({ status: 401, code: 'HG_UNAUTHORIZED' });
    expect((await statusOf(t.url, path, bearer(API))).status).toBe(200);
  });

  it('/openapi.json needs the API token', async () => {
    expect(await statusOf(t.url, '/openapi.json')).toEqual({ status: 401, code: 'HG_UNAUTHORIZED' });
    expect((await statusOf(t.url, '/openapi.json', bearer(API))).status).toBe(200);
  });
});

describe('both tokens set', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false } }, { HES_GATE_API_TOKEN: API, HES_GATE_ADMIN_TOKEN: ADMIN });
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it('/openapi.json answers either token and nobody else', async () => {
    expect(await statusOf(t.url, '/openapi.json')).toEqual({ status: 401, code: 'HG_UNAUTHORIZED' });
    expect((await statusOf(t.url, '/openapi.json', bearer(API))).status).toBe(200);
    expect((await statusOf(t.url, '/openapi.json', bearer(ADMIN))).status).toBe(200);
  });

  it.each(['/v1/live/events', '/v1/live/history'])('%s stays the operators\': the admin token, not the API token', async (path) => {
    expect(await statusOf(t.url, path, bearer(API))).toEqual({ status: 401, code: 'HG_UNAUTHORIZED' });
    expect((await statusOf(t.url, path, bearer(ADMIN))).status).toBe(200);
  });
});

describe('no token set (loopback only)', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false } });
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it.each(['/openapi.json', '/v1/live/history'])('%s is open', async (path) => {
    expect((await statusOf(t.url, path)).status).toBe(200);
  });
});
