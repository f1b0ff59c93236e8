/**
 * Error bodies repeat nothing the client sent: a card id in a path, a field name, a header, a
 * URL. Every refusal has the service's own `{"error":{"code","message"}}` shape. And device
 * state is behind the same tokens as the other APIs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate } from './helpers.js';

const CARD = '04A1B2C3EE';
const TOKENS = { HES_GATE_ADMIN_TOKEN: 'admin-token-echo', HES_GATE_API_TOKEN: 'api-token-echo' };

describe('error bodies never echo input', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false }, gates: { requireKnown: true, list: [{ id: 'G1' }] } }, TOKENS);
  });
  afterAll(async () => {
    await t.gate.close();
  });

  async function call(method: string, path: string, init: RequestInit = {}): Promise<{ status: number; text: string; body: any }> {
    const res = await fetch(`${t.url}${path}`, { method, ...init });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) };
  }

  it.each([
    ['a 404 for a path with a card id in it', 'DELETE', `/v1/cards/${CARD}/`, 404, 'HG_NOT_FOUND'],
    ['a 404 for an unknown route', 'GET', `/v1/${CARD}?card=${CARD}`, 404, 'HG_NOT_FOUND'],
    ['a path segment too long for the router', 'GET', `/v1/cards/${CARD}${'A'.repeat(200)}`, 414, 'HG_URI_TOO_LONG'],
    ['a malformed escape in the path', 'GET', `/v1/cards/${CARD}%E0%A4%A`, 400, 'HG_BAD_REQUEST'],
  ])('%s', async (_label, method, path, status, code) => {
    const r = await call(method, path, { headers: { authorization: `Bearer ${TOKENS.HES_GATE_ADMIN_TOKEN}` } });
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(r.text).not.toContain(CARD);
    expect(r.text).not.toContain('/v1/');
  });

  it('an unexpected field in a decision is refused without naming it', async () => {
    const r = await call('POST', '/v1/decisions', {
      headers: { authorization: `Bearer ${TOKENS.HES_GATE_API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ gate: 'G1', hesCode: 'A1B2345678', [CARD]: 1 }),
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('HG_BAD_REQUEST');
    expect(r.body.error.message).toMatch(/^unexpected field/);
    expect(r.text).not.toContain(CARD);
  });

  it('an unknown gate is refused without repeating its id', async () => {
    const r = await call('POST', '/v1/decisions', {
      headers: { authorization: `Bearer ${TOKENS.HES_GATE_API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ gate: `GATE-${CARD}`, hesCode: 'A1B2345678' }),
    });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('HG_GATE_UNKNOWN');
    expect(r.text).not.toContain(CARD);
  });

  it('a content type the API does not take is refused without repeating it', async () => {
    const r = await call('POST', '/v1/decisions', {
      headers: { authorization: `Bearer ${TOKENS.HES_GATE_API_TOKEN}`, 'content-type': `application/x-${CARD}` },
      body: 'x',
    });
    expect(r.status).toBe(415);
    expect(r.text).not.toContain(CARD);
  });
});

describe('device state needs a token', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false } }, TOKENS);
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it('refuses /v1/devices without a token or with a wrong one, and serves it with the admin or the API token', async () => {
    const none = await fetch(`${t.url}/v1/devices`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe('HG_UNAUTHORIZED');
    const wrong = await fetch(`${t.url}/v1/devices`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    for (const token of [TOKENS.HES_GATE_ADMIN_TOKEN, TOKENS.HES_GATE_API_TOKEN]) {
      const ok = await fetch(`${t.url}/v1/devices`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ devices: [] });
    }
  });
});
