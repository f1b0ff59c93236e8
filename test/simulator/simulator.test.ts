import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import {
  LIVE_PREFIX,
  SAMPLE,
  SIMULATOR_PASSWORD,
  SIMULATOR_USER,
  loadSampleCodes,
  runSimulatorCli,
  sampleCodes,
  startSimulator,
  type Simulator,
} from '../../src/simulator/index.js';
import { HesGateError } from '../../src/errors.js';
import { MINISTRY_BULK_LIMIT } from '../../src/ministry/types.js';

const NOW = Date.UTC(2025, 0, 15, 9, 30, 0);
const AUTH = `Basic ${Buffer.from(`${SIMULATOR_USER}:${SIMULATOR_PASSWORD}`).toString('base64')}`;
const CONTROL_TOKEN = 'rehearsal-control-token-0123';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ clock: () => NOW, controlToken: CONTROL_TOKEN });
});
afterEach(() => sim.resetFaults());
afterAll(() => sim.close());

async function post(path: string, body: unknown, auth: string | null = AUTH) {
  const res = await request(`${sim.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth === null ? {} : { authorization: auth }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json: json as Record<string, unknown> };
}

async function control(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown, token: string | null = CONTROL_TOKEN, origin = sim.origin) {
  const res = await request(`${origin}/_simulator/${path}`, {
    method,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

/** An address of this machine that is not loopback, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

const ep = (name: string): string => `/services/g2g/test/saglik/hes/${name}`;

describe('the G2G shapes', () => {
  it('one result, with masked identity and the trailing space in the last name', async () => {
    const r = await post(ep('check-hes-code'), { hes_code: SAMPLE.RISKLESS });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json).toEqual({
      current_health_status: 'RISKLESS',
      expiration_date: '2070-12-31T20:59:59.000Z',
      masked_identity_number: '********792',
      masked_firstname: 'DE****',
      masked_lastname: 'DE**** ',
    });
  });

  it('plus result adds the four fields, raw; relative dates follow the clock', async () => {
    const r = await post(ep('check-hes-code-plus'), { hes_code: SAMPLE.PLUS_STRING_BOOLEANS });
    expect(r.json).toMatchObject({ is_vaccinated: 'true', is_immune: 'false', is_test_data_shared: 'false', last_negative_test_date: 'null' });
    const near = await post(ep('check-hes-code'), { hes_code: SAMPLE.RISKLESS_NEAR_EXPIRY });
    expect(near.json['expiration_date']).toBe('2025-02-14T09:30:00Z');
    const plain = await post(ep('check-hes-code'), { hes_code: SAMPLE.PLUS_VACCINATED });
    expect(plain.json).not.toHaveProperty('is_vaccinated');
  });

  it('not found and expired are 400 problem bodies with errorKey; absent codes are not found', async () => {
    for (const [code, key] of [
      [SAMPLE.NOT_FOUND, 'hescodenotfound'],
      [SAMPLE.ABSENT, 'hescodenotfound'],
      [SAMPLE.EXPIRED, 'hescodehasbeenexpired'],
    ] as const) {
      const r = await post(ep('check-employee-hes-code'), { hes_code: code });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ entityName: 'hescode', errorKey: key, status: 400, message: `error.${key}`, params: 'hescode' });
    }
  });

  it('bulk: success_map and unsuccess_map with mixed results; over 500 codes is a 400', async () => {
    const r = await post(ep('check-hes-codes-plus'), [SAMPLE.RISKY, SAMPLE.EXPIRED, SAMPLE.ABSENT, SAMPLE.UNKNOWN_STATUS].map((hes_code) => ({ hes_code })));
    expect(r.status).toBe(200);
    expect(Object.keys(r.json['success_map'] as object).sort()).toEqual([SAMPLE.RISKY, SAMPLE.UNKNOWN_STATUS].sort());
    expect(r.json['success_map']).toMatchObject({ [SAMPLE.RISKY]: { current_health_status: 'RISKY', is_vaccinated: null } });
    expect(r.json['unsuccess_map']).toEqual({ [SAMPLE.EXPIRED]: 'hescodehasbeenexpired', [SAMPLE.ABSENT]: 'hescodenotfound' });
    // The ministry's documented limit; the client and the refresher chunk by the same constant.
    expect(MINISTRY_BULK_LIMIT).toBe(500);
    const full = await post(ep('check-hes-codes'), Array.from({ length: MINISTRY_BULK_LIMIT }, () => ({ hes_code: SAMPLE.RISKY })));
    expect(full.status).toBe(200);
    const big = await post(ep('check-hes-codes'), Array.from({ length: MINISTRY_BULK_LIMIT + 1 }, () => ({ hes_code: SAMPLE.RISKY })));
    expect(big.status).toBe(400);
    expect(big.json['errorKey']).toBe('maxhescodecountexceeded');
    const bad = await post(ep('check-hes-codes'), { hes_code: SAMPLE.RISKY });
    expect(bad.status).toBe(400);
  });

  it('visitor checks need city, district and address', async () => {
    const ok = await post(ep('check-visitor-hes-code'), { hes_code: SAMPLE.RISKY, city: 'İZMİR', district: 'KONAK', explicit_address: 'Üçyol' });
    expect(ok.status).toBe(200);
    const r = await post(ep('check-visitor-hes-code'), { hes_code: SAMPLE.RISKY, district: '' });
    expect(r.status).toBe(400);
    expect(r.json['fieldErrors']).toEqual([
      { objectName: 'visitorHesCodeRequest', field: 'city', message: 'NotBlank' },
      { objectName: 'visitorHesCodeRequest', field: 'district', message: 'NotBlank' },
      { objectName: 'visitorHesCodeRequest', field: 'explicit_address', message: 'NotBlank' },
    ]);
  });

  it('Basic auth: 401 with a JHipster-ish body and WWW-Authenticate; other users by option', async () => {
    for (const auth of [null, 'Basic bm9ib2R5Om5vdGhpbmc=']) {
      const r = await post(ep('check-hes-code'), { hes_code: SAMPLE.RISKY }, auth);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Basic/);
      expect(r.json).toMatchObject({ status: 401, title: 'Unauthorized', message: 'error.http.401' });
    }
    const other = await startSimulator({ users: [{ user: 'ORG-TEST', password: 'other' }] });
    try {
      const res = await request(`${other.url}check-hes-code`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('ORG-TEST:other').toString('base64')}` },
        body: JSON.stringify({ hes_code: SAMPLE.RISKY }),
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await other.close();
    }
  });

  it('both prefixes; unknown paths 404; other methods 405', async () => {
    expect((await post(`${LIVE_PREFIX}check-hes-code`, { hes_code: SAMPLE.RISKY })).status).toBe(200);
    expect(sim.liveUrl).toBe(`${sim.origin}${LIVE_PREFIX}`);
    expect((await post('/services/g2g/test/saglik/hes/check-hes-kod', { hes_code: SAMPLE.RISKY })).status).toBe(404);
    expect((await post('/', {})).status).toBe(404);
    const get = await request(`${sim.url}check-hes-code`);
    expect(get.statusCode).toBe(405);
    await get.body.dump();
  });
});

describe('faults, counts and events', () => {
  it('emits a request event and counts by path and by known code only', async () => {
    sim.resetCounts();
    const [[event]] = await Promise.all([
      once(sim, 'request'),
      post(ep('check-hes-codes'), [SAMPLE.RISKY, SAMPLE.RISKY, 'ZZZZ999999'].map((hes_code) => ({ hes_code }))),
    ]);
    expect(event).toEqual({ endpoint: 'check-hes-codes', codes: [SAMPLE.RISKY, SAMPLE.RISKY, 'ZZZZ999999'] });
    await post(ep('check-hes-code'), { hes_code: SAMPLE.RISKY });
    const counts = sim.counts();
    expect(counts).toMatchObject({ total: 2, byCode: { [SAMPLE.RISKY]: 3 }, unknownCodes: 1 });
    expect(counts.byPath).toMatchObject({ 'check-hes-codes': 1, 'check-hes-code': 1, 'check-hes-code-plus': 0 });
    expect(JSON.stringify(counts)).not.toContain('ZZZZ999999');
  });

  it('status fault answers a problem body; garbage is HTML; truncated is cut JSON', async () => {
    sim.setFaults({ status: 503 });
    const r = await post(ep('check-hes-code'), { hes_code: SAMPLE.RISKY });
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ status: 503 });
    sim.setFaults({ status: null, body: 'garbage' });
    const g = await post(ep('check-hes-code'), { hes_code: SAMPLE.RISKY });
    expect([g.status, g.headers['content-type'], g.json]).toEqual([200, 'text/html', undefined]);
    sim.setFaults({ body: 'truncated' });
    const t = await post(ep('check-hes-code'), { hes_code: SAMPLE.RISKY });
    expect(t.json).toBeUndefined();
    expect(t.text.startsWith('{"current_health_status":"RISKY"')).toBe(true);
  });

  it('the control API reads and sets faults, counts and codes, and ignores faults itself', async () => {
    expect(await control('PUT', 'faults', { hang: true, latencyMs: 5 })).toMatchObject({ status: 200, json: { hang: true, latencyMs: 5 } });
    expect(sim.faults).toMatchObject({ hang: true, latencyMs: 5, reset: false });
    expect((await control('GET', 'faults')).json).toMatchObject({ hang: true });
    const bad = await control('PUT', 'faults', { hang: 'yes' });
    expect(bad).toEqual({ status: 400, json: { error: 'faults.hang must be true or false' } });
    expect((await control('PUT', 'faults', { nonsense: 1 })).status).toBe(400);
    expect((await control('PUT', 'faults', { hang: false })).status).toBe(200);

    const put = await control('PUT', `codes/${SAMPLE.RISKLESS}`, { status: 'RISKY', note: 'flipped by an operator' });
    expect(put.json).toMatchObject({ code: SAMPLE.RISKLESS, status: 'RISKY' });
    expect((await post(ep('check-hes-code'), { hes_code: SAMPLE.RISKLESS })).json['current_health_status']).toBe('RISKY');
    expect((await control('PUT', 'codes/abc', { status: 'RISKY' })).status).toBe(400);
    expect((await control('DELETE', `codes/${SAMPLE.RISKLESS}`)).status).toBe(200);
    expect((await post(ep('check-hes-code'), { hes_code: SAMPLE.RISKLESS })).status).toBe(400);
    sim.setCode(SAMPLE.RISKLESS, sampleCodes(NOW)[0]!);

    expect((await control('GET', 'counts')).json['total']).toBeGreaterThan(0);
    expect((await control('POST', 'counts/reset')).json).toMatchObject({ total: 0, connections: 0 });
    expect((await control('GET', 'nothing')).status).toBe(404);
    expect((await control('PUT', 'codes/%E0%A4%A', { status: 'RISKY' })).status).toBe(400);
  });

  it('the control API needs the control token: no token, a wrong one or another scheme is a 401 and changes nothing', async () => {
    for (const token of [null, 'wrong-token-wrong-token', `${CONTROL_TOKEN}x`, CONTROL_TOKEN.slice(0, -1)]) {
      const r = await control('PUT', 'faults', { hang: true }, token);
      expect(r.status, String(token)).toBe(401);
      expect(JSON.stringify(r.json)).not.toContain(CONTROL_TOKEN);
    }
    const basic = await request(`${sim.origin}/_simulator/faults`, { headers: { authorization: `Basic ${Buffer.from(`x:${CONTROL_TOKEN}`).toString('base64')}` } });
    expect(basic.statusCode).toBe(401);
    await basic.body.dump();
    expect(sim.faults.hang).toBe(false);
  });

  it('without a control token the control API is off; the ministry paths still answer', async () => {
    const s = await startSimulator();
    try {
      const r = await control('GET', 'faults', undefined, CONTROL_TOKEN, s.origin);
      expect(r.status).toBe(401);
      expect(r.json.error).toMatch(/control API is off/);
      expect((await control('PUT', 'faults', { status: 503 }, null, s.origin)).status).toBe(401);
      expect(s.faults.status).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('refuses a control token shorter than 16 characters with a coded error', async () => {
    const err = await startSimulator({ controlToken: 'short' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HesGateError);
    expect((err as HesGateError).code).toBe('HG_TOKEN_WEAK');
    expect((err as HesGateError).message).not.toContain('short');
  });

  const external = externalAddress();
  it.skipIf(external === undefined)('the control API answers loopback clients only, even with the right token', async () => {
    const s = await startSimulator({ host: '0.0.0.0', controlToken: CONTROL_TOKEN });
    try {
      const viaLan = await control('PUT', 'faults', { status: 503 }, CONTROL_TOKEN, `http://${external}:${s.port}`);
      expect(viaLan.status).toBe(403);
      expect(s.faults.status).toBeNull();
      // The same request over loopback is accepted: the peer, not the token, was refused.
      expect((await control('PUT', 'faults', { status: 503 }, CONTROL_TOKEN, `http://127.0.0.1:${s.port}`)).status).toBe(200);
      expect(s.faults.status).toBe(503);
    } finally {
      await s.close();
    }
  });

  it('setFaults refuses bad values with a TypeError naming the knob', () => {
    expect(() => sim.setFaults({ status: 200 })).toThrow(/faults.status/);
    expect(() => sim.setFaults({ failRate: 2 })).toThrow(/faults.failRate/);
    expect(() => sim.setFaults({ rateLimit: { retryAfterSeconds: -1 } })).toThrow(/faults.rateLimit/);
  });

  it('close() does not wait for hung or slow requests', async () => {
    const s = await startSimulator();
    s.setFaults({ hang: true });
    const hung = request(`${s.url}check-hes-code`, {
      method: 'POST',
      headers: { authorization: AUTH },
      body: JSON.stringify({ hes_code: SAMPLE.RISKY }),
    }).catch((err: Error) => err);
    await once(s, 'request');
    await s.close();
    expect(await hung).toBeInstanceOf(Error);
  });
});

describe('sample codes', () => {
  it('the bundled set covers every status and finding, with plausible unique codes and a note each', () => {
    const codes = sampleCodes(NOW);
    expect(new Set(codes.map((c) => c.code)).size).toBe(codes.length);
    for (const c of codes) {
      expect(c.code).toMatch(/^[A-Z]\d[A-Z]\d{7}$/);
      expect(c.note.length).toBeGreaterThan(5);
    }
    expect(codes.map((c) => c.status ?? c.errorKey)).toEqual(
      expect.arrayContaining(['RISKLESS', 'RISKY', 'UNDETERMINED', 'hescodenotfound', 'hescodehasbeenexpired']),
    );
    expect(codes.map((c) => c.code)).not.toContain(SAMPLE.ABSENT);
  });

  it('loads a JSON file, and names what is wrong in a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hes-sim-'));
    const good = join(dir, 'codes.json');
    writeFileSync(good, JSON.stringify([{ code: 'A0A0000001', status: 'RISKY', note: 'file code' }]));
    expect(loadSampleCodes(good)).toEqual([{ code: 'A0A0000001', status: 'RISKY', note: 'file code' }]);
    const s = await startSimulator({ codesFile: good });
    try {
      expect(s.codes().map((c) => c.code)).toEqual(['A0A0000001']);
    } finally {
      await s.close();
    }

    const cases: Array<[string, string, RegExp]> = [
      ['notjson.json', '{', /HG_CONFIG_FILE|could not be read as JSON/],
      ['object.json', '{}', /must hold a JSON array/],
      ['dashes.json', JSON.stringify([{ code: 'A0A0-0000-01', status: 'RISKY' }]), /\[0\]\.code must be 10 upper-case/],
      ['neither.json', JSON.stringify([{ code: 'A0A0000001' }]), /\[0\] needs a status/],
      ['plus.json', JSON.stringify([{ code: 'A0A0000001', status: 'RISKY', plus: { is_vaccinated: 1 } }]), /\[0\]\.plus\.is_vaccinated/],
      ['dup.json', JSON.stringify([{ code: 'A0A0000001', status: 'RISKY' }, { code: 'A0A0000001', status: 'RISKY' }]), /\[1\]\.code appears twice/],
      ['typo.json', JSON.stringify([{ code: 'A0A0000001', staus: 'RISKY' }]), /\[0\]\.staus is not a sample code field/],
    ];
    for (const [name, text, message] of cases) {
      const p = join(dir, name);
      writeFileSync(p, text);
      let err: unknown;
      try {
        loadSampleCodes(p);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(HesGateError);
      expect((err as Error).message, name).toMatch(message);
    }
    expect(() => loadSampleCodes(join(dir, 'missing.json'))).toThrow(expect.objectContaining({ code: 'HG_CONFIG_FILE' }));
  });
});

describe('runSimulatorCli', () => {
  it('prints the base URLs and the user, never the password', async () => {
    const lines: string[] = [];
    const s = await runSimulatorCli({ port: 0, print: (l) => lines.push(l) });
    try {
      const out = lines.join('\n');
      expect(out).toContain(s.url);
      expect(out).toContain(s.liveUrl);
      expect(out).toContain(SIMULATOR_USER);
      expect(out).not.toContain(SIMULATOR_PASSWORD);
    } finally {
      await s.close();
    }
  });

  it('says whether the control API is on, and never prints its token', async () => {
    const off: string[] = [];
    const s1 = await runSimulatorCli({ port: 0, print: (l) => off.push(l) });
    await s1.close();
    expect(off.join('\n')).toMatch(/control API\s+off/);
    const on: string[] = [];
    const s2 = await runSimulatorCli({ port: 0, controlToken: CONTROL_TOKEN, print: (l) => on.push(l) });
    await s2.close();
    expect(on.join('\n')).toContain(`${s2.origin}/_simulator/faults`);
    expect(on.join('\n')).not.toContain(CONTROL_TOKEN);
  });

  it('needs both TLS files or neither', async () => {
    await expect(runSimulatorCli({ port: 0, tlsCert: 'x.pem', print: () => {} })).rejects.toMatchObject({ code: 'HG_CONFIG_INVALID' });
  });
});
