/**
 * Device state (`GET /v1/devices`) is readable with any configured token, and only with one: an
 * operator who sets just the admin token, or just the API token, has not opened it to everyone.
 * Each token configured alone, against a whole gate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGate } from './helpers.js';

describe('/v1/devices with one token configured', () => {
  let gate: Awaited<ReturnType<typeof startTestGate>> | undefined;
  afterEach(async () => {
    await gate?.gate.close();
    gate = undefined;
  });

  it.each([
    ['only the admin token', 'HES_GATE_ADMIN_TOKEN'],
    ['only the API token', 'HES_GATE_API_TOKEN'],
  ])('%s: refused without it or with a wrong one, served with it', async (_label, variable) => {
    const token = `${variable.toLowerCase()}-alone`;
    gate = await startTestGate({ refresher: { enabled: false } }, { [variable]: token });
    const none = await fetch(`${gate.url}/v1/devices`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('HG_UNAUTHORIZED');
    const wrong = await fetch(`${gate.url}/v1/devices`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${gate.url}/v1/devices`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ devices: [] });
  });
});
