/**
 * Property-based abuse of the decision, card and device APIs against the real app (fast-check,
 * through fastify's whole request pipeline): every answer is a decision, a success or a coded
 * 4xx in the service's error format; never a 5xx; an error body never repeats what was sent;
 * the process is healthy after. Every string a client controls carries a marker, so an echo
 * anywhere in an error body is found. The names of Object.prototype's members (`__proto__`,
 * `constructor`, …) go into every field that reaches a lookup (gate, card profile, content type,
 * query keys and values, path parameters): a plain-object lookup would find the prototype's
 * function and fail with a 5xx. Seeded, so a failure can be replayed.
 */
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate } from '../http/helpers.js';

const ADMIN = 'admin-token-fuzz';
const API = 'api-token-fuzz';
/** In every client-controlled string: found in an error body, it is an echo. */
const MARK = 'Q7ZK';
/** In every hex card id a client sends (a card id is hex, so it needs a hex marker). */
const HEX_MARK = 'C0FFEE';
const SEED = 20261130;
const RUNS = 250;

/** Keys a plain-object lookup finds on Object.prototype (issue 20: profile `constructor` broke every tap). */
const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;
const protoName = fc.constantFrom(...PROTO_NAMES);

const marked = fc.string({ maxLength: 40 }).map((s) => `${MARK}${s}`);
/** A client's text: marked (an echo is found), or a prototype member's name. */
const text = fc.oneof(marked, protoName);
const hexMarked = fc.stringMatching(/^[0-9A-Fa-f:\- ]{0,24}$/).map((s) => `04${HEX_MARK}${s}`);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  marked,
  protoName,
  hexMarked,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(marked, { maxLength: 3 }),
  fc.dictionary(text, marked, { maxKeys: 3 }),
);
const auth = fc.constantFrom<Record<string, string>>({}, { authorization: `Bearer ${API}` }, { authorization: `Bearer ${ADMIN}` }, { authorization: `Bearer ${MARK}` }, { authorization: `Basic ${MARK}` });
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', `application/${MARK}`, 'application/x-ndjson', '', ...PROTO_NAMES);

/** A body: JSON with the known fields (any values), unknown marked keys, or raw marked text. */
const decisionBody = fc.oneof(
  fc.record({ gate: fc.oneof(fc.constant('G1'), anyValue), hesCode: anyValue, qr: anyValue, card: anyValue }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.tuple(fc.dictionary(text, anyValue, { minKeys: 1, maxKeys: 3 }), fc.constantFrom('G1', `G${MARK}`, ...PROTO_NAMES)).map(([extra, gate]) => JSON.stringify({ gate, hesCode: 'A1B2345678', ...extra })),
  anyValue.map((v) => JSON.stringify(v)),
  marked,
);

function checkAnswer(res: LightMyRequestResponse, okStatuses: number[]): void {
  expect(res.statusCode, res.body).toBeLessThan(500);
  if (okStatuses.includes(res.statusCode)) return;
  expect(res.statusCode).toBeGreaterThanOrEqual(400);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toMatch(/^HG_[A-Z_]+$/);
  expect(typeof body.error.message).toBe('string');
  const lower = res.body.toLowerCase();
  expect(lower, 'the error body repeats input').not.toContain(MARK.toLowerCase());
  expect(lower, 'the error body repeats a card id').not.toContain(HEX_MARK.toLowerCase());
  for (const name of PROTO_NAMES) expect(res.body, 'the error body repeats a prototype name sent').not.toContain(name);
}

describe('fuzzing the APIs', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false }, gates: { list: [{ id: 'G1' }] } }, { HES_GATE_ADMIN_TOKEN: ADMIN, HES_GATE_API_TOKEN: API });
    app = t.gate.app;
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it('the decision API answers a decision or a coded 4xx that repeats nothing', async () => {
    await fc.assert(
      fc.asyncProperty(decisionBody, contentType, auth, async (payload, type, headers) => {
        const res = await app.inject({ method: 'POST', url: '/v1/decisions', payload, headers: { ...headers, ...(type === '' ? {} : { 'content-type': type }) } });
        checkAnswer(res, [200]);
        if (res.statusCode === 200) expect(JSON.parse(res.body).verdict).toMatch(/^(pass|deny)$/);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('the card API answers a success or a coded 4xx that repeats nothing', async () => {
    const method = fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH');
    const cardPath = fc.oneof(hexMarked, text, fc.string({ maxLength: 30 }).map((s) => `${HEX_MARK}${s}`)).map((id) => `/v1/cards/${encodeURIComponent(id)}`);
    const path = fc.oneof(cardPath, fc.constant('/v1/cards/import'), text.map((s) => `/v1/cards/${encodeURIComponent(s)}/x`));
    const cardBody = fc.oneof(
      fc.record({ hesCode: anyValue, profile: anyValue }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
      fc.dictionary(text, anyValue, { minKeys: 1, maxKeys: 2 }).map((o) => JSON.stringify({ hesCode: 'A1B2345678', ...o })),
      fc.array(fc.record({ cardId: fc.oneof(hexMarked, anyValue), hesCode: anyValue, profile: anyValue }, { requiredKeys: [] }), { maxLength: 4 }).map((a) => JSON.stringify(a)),
      fc.array(fc.oneof(marked, anyValue.map((v) => JSON.stringify(v))), { maxLength: 4 }).map((lines) => lines.join('\n')),
    );
    await fc.assert(
      fc.asyncProperty(method, path, cardBody, contentType, auth, async (m, url, payload, type, headers) => {
        const withBody = m === 'PUT' || m === 'POST' || m === 'PATCH';
        const res = await app.inject({ method: m, url, ...(withBody ? { payload } : {}), headers: { ...headers, ...(withBody && type !== '' ? { 'content-type': type } : {}) } });
        checkAnswer(res, [200, 201, 204]);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('the device API answers the device list or a coded 401 that repeats nothing', async () => {
    const query = fc.dictionary(text, text, { maxKeys: 2 }).map((q) => new URLSearchParams(q).toString());
    await fc.assert(
      fc.asyncProperty(query, auth, fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE'), async (q, headers, m) => {
        const res = await app.inject({ method: m, url: `/v1/devices${q === '' ? '' : `?${q}`}`, headers });
        if (m === 'HEAD') {
          expect([200, 401]).toContain(res.statusCode); // no body to read
          return;
        }
        checkAnswer(res, [200]);
        if (res.statusCode === 200 && m === 'GET') expect(JSON.parse(res.body)).toEqual({ devices: [] });
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('the journal API answers a page or a coded 4xx, whatever its query keys and values', async () => {
    const value = fc.oneof(text, fc.constantFrom('pass', 'RISKY', '10', '2026-12-01T00:00:00Z'));
    const key = fc.oneof(text, fc.constantFrom('from', 'to', 'gate', 'verdict', 'reason', 'limit', 'after'));
    const query = fc.array(fc.tuple(key, value), { maxLength: 3 }).map((pairs) => new URLSearchParams(pairs).toString());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/journal', '/v1/journal/summary'), query, auth, async (path, q, headers) => {
        const res = await app.inject({ method: 'GET', url: `${path}${q === '' ? '' : `?${q}`}`, headers });
        checkAnswer(res, [200]);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('a card bound to a profile named like a prototype member is decided like any other', async () => {
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    for (const [i, profile] of PROTO_NAMES.entries()) {
      const card = `04A1B2C3D4E${i}`;
      const put = await app.inject({ method: 'PUT', url: `/v1/cards/${card}`, payload: JSON.stringify({ hesCode: 'A1B2345678', profile }), headers: admin });
      // `constructor` is a profile name like `senior`; the others are not words a profile can be.
      checkAnswer(put, [200, 201]);
      if (put.statusCode >= 400) continue;
      const tap = await app.inject({ method: 'POST', url: '/v1/decisions', payload: JSON.stringify({ gate: 'G1', card }), headers: { authorization: `Bearer ${API}`, 'content-type': 'application/json' } });
      expect(tap.statusCode, `${profile}: ${tap.body}`).toBe(200);
      expect(JSON.parse(tap.body)).toMatchObject({ verdict: 'pass', reason: 'RISKLESS' });
    }
  });

  it('is healthy and ready after all of it', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    const decision = await t.post({ gate: 'G1', hesCode: 'A1B2345678' }, { authorization: `Bearer ${API}` });
    expect(decision.body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS' });
  });
});
