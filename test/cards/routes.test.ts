import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/ops/logger.js';
import { openStationStore, type StationStore } from '../../src/cards/station-store.js';
import { cardRoutes, type CardChangeEvent } from '../../src/http/routes/cards.js';
import { tokenMatches } from '../../src/http/auth.js';
import { tempDir } from './helpers.js';

// Spy on the real timingSafeEqual to show the token check goes through it.
const { timingSafeEqualSpy } = vi.hoisted(() => ({ timingSafeEqualSpy: { calls: 0 } }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      timingSafeEqualSpy.calls++;
      return actual.timingSafeEqual(a, b);
    },
  };
});

const TOKEN = 'correct-horse-battery-staple';
const AUTH = { authorization: `Bearer ${TOKEN}` };

let apps: FastifyInstance[] = [];
let stores: StationStore[] = [];

afterEach(async () => {
  for (const app of apps) await app.close();
  for (const s of stores) await s.close();
  apps = [];
  stores = [];
});

async function build(options: { adminToken?: string } = { adminToken: TOKEN }): Promise<{ app: FastifyInstance; store: StationStore; changes: CardChangeEvent[] }> {
  const store = await openStationStore({ dataDir: tempDir(), clock: () => Date.parse('2021-03-01T08:00:00Z') });
  const changes: CardChangeEvent[] = [];
  // The service's own HTTP app (its error handler, body limit and content types), with the card routes.
  const app = createHttpApp({ bodyLimitBytes: 8192, logger: createLogger('silent') });
  await app.register(cardRoutes, { store, adminToken: options.adminToken, onChange: (e) => changes.push(e) });
  await app.ready();
  apps.push(app);
  stores.push(store);
  return { app, store, changes };
}

describe('card admin API: authorisation', () => {
  it('is disabled without a configured token', async () => {
    const { app } = await build({});
    const res = await app.inject({ method: 'GET', url: '/v1/cards/04A1B2C3', headers: AUTH });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('HG_UNAUTHORIZED');
    expect(res.json().error.message).toMatch(/disabled/);
  });

  it('refuses a missing, wrong, or differently long token; accepts the right one', async () => {
    const { app } = await build();
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${TOKEN}` }, { authorization: 'Bearer ' }]) {
      const res = await app.inject({ method: 'GET', url: '/v1/cards/04A1B2C3', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('HG_UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    const before = timingSafeEqualSpy.calls;
    const ok = await app.inject({ method: 'GET', url: '/v1/cards/04A1B2C3', headers: AUTH });
    expect(ok.statusCode).toBe(404); // authorised; the card is just not bound
    expect(timingSafeEqualSpy.calls).toBe(before + 1);
  });

  it('compares digests, so tokens of any length are compared without throwing', async () => {
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256').update(TOKEN).digest();
    expect(tokenMatches(TOKEN, expected)).toBe(true);
    expect(tokenMatches('', expected)).toBe(false);
    expect(tokenMatches('x'.repeat(10_000), expected)).toBe(false);
  });
});

describe('card admin API: bindings', () => {
  it('binds, reads masked, rebinds, unbinds — each change journaled masked', async () => {
    const { app, store, changes } = await build();
    const put = await app.inject({ method: 'PUT', url: '/v1/cards/04:a1:b2:c3:d4:e5:f6', headers: AUTH, payload: { hesCode: 'a1b2-3456-78', profile: 'student' } });
    expect(put.statusCode).toBe(201);
    expect(put.json()).toEqual({ cardId: '04A1B2C3D4E5F6', hesCode: 'A1B2-****-**', profile: 'student', updatedAt: '2021-03-01T08:00:00.000Z', outcome: 'created' });
    expect(put.body).not.toContain('A1B2345678');

    const get = await app.inject({ method: 'GET', url: '/v1/cards/04-A1-B2-C3-D4-E5-F6', headers: AUTH });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual({ cardId: '04A1B2C3D4E5F6', hesCode: 'A1B2-****-**', profile: 'student', updatedAt: '2021-03-01T08:00:00.000Z' });

    const same = await app.inject({ method: 'PUT', url: '/v1/cards/04A1B2C3D4E5F6', headers: AUTH, payload: { hesCode: 'A1B2345678', profile: 'student' } });
    expect(same.statusCode).toBe(200);
    expect(same.json().outcome).toBe('unchanged');
    const re = await app.inject({ method: 'PUT', url: '/v1/cards/04A1B2C3D4E5F6', headers: AUTH, payload: { hesCode: 'C3D4567890' } });
    expect(re.statusCode).toBe(200);
    expect(re.json()).toMatchObject({ hesCode: 'C3D4-****-**', profile: 'standard', outcome: 'updated' });

    const del = await app.inject({ method: 'DELETE', url: '/v1/cards/04A1B2C3D4E5F6', headers: AUTH });
    expect(del.statusCode).toBe(204);
    const gone = await app.inject({ method: 'GET', url: '/v1/cards/04A1B2C3D4E5F6', headers: AUTH });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('HG_NOT_FOUND');
    const delAgain = await app.inject({ method: 'DELETE', url: '/v1/cards/04A1B2C3D4E5F6', headers: AUTH });
    expect(delAgain.statusCode).toBe(404);

    const journal = store.readJournal().reverse();
    expect(journal.map((e) => [e.who, e.action, e.cardIdMasked, e.hesCodeMasked])).toEqual([
      ['admin', 'bind', '…E5F6', 'A1B2-****-**'],
      ['admin', 'rebind', '…E5F6', 'C3D4-****-**'],
      ['admin', 'unbind', '…E5F6', 'C3D4-****-**'],
    ]);
    expect(JSON.stringify(journal)).not.toMatch(/04A1B2C3D4E5F6|A1B2345678|C3D4567890/);
    expect(changes.map((c) => c.action)).toEqual(['put', 'put', 'delete']);
  });

  it('answers coded 400s for a bad card id, code, profile or body', async () => {
    const { app } = await build();
    const cases: Array<[string, unknown, string]> = [
      ['/v1/cards/xyz', { hesCode: 'A1B2345678' }, 'HG_CARD_ID_INVALID'],
      ['/v1/cards/04A1B2', { hesCode: 'A1B2345678' }, 'HG_CARD_ID_INVALID'],
      ['/v1/cards/04A1B2C3', { hesCode: 'A1B2' }, 'HG_HES_CODE_INVALID'],
      ['/v1/cards/04A1B2C3', { hesCode: 'A1B2345678', profile: 'Two Words' }, 'HG_BAD_REQUEST'],
      ['/v1/cards/04A1B2C3', { hes_code: 'A1B2345678' }, 'HG_BAD_REQUEST'],
      ['/v1/cards/04A1B2C3', ['A1B2345678'], 'HG_BAD_REQUEST'],
    ];
    for (const [url, payload, code] of cases) {
      const res = await app.inject({ method: 'PUT', url, headers: AUTH, payload: payload as object });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe(code);
      expect(res.body).not.toContain('A1B2345678');
    }
  });
});

describe('card admin API: bulk import', () => {
  it('imports NDJSON bodies with line numbers and reasons', async () => {
    const { app, store, changes } = await build();
    const body = [
      '{"cardId":"04A1B2C3D4E5F6","hesCode":"A1B2345678","profile":"student"}',
      '{"cardId":"bad","hesCode":"A1B2345678"}',
      '{"cardId":"04A1B2C3D4E5F7","hesCode":"C3D4567890"}',
      'not json',
      '',
    ].join('\n');
    const res = await app.inject({ method: 'POST', url: '/v1/cards/import', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: body });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      imported: 2,
      created: 2,
      rejected: 2,
      rejections: [{ line: 2, reason: 'CARD_ID_INVALID' }, { line: 4, reason: 'MALFORMED_ROW' }],
    });
    expect(await store.countBindings()).toBe(2);
    expect(store.readJournal()[0]).toMatchObject({ who: 'admin', action: 'import', detail: { imported: 2, rejected: 2 } });
    expect(changes).toEqual([{ action: 'import', imported: 2, created: 2, updated: 0, rejected: 2 }]);

    const again = await app.inject({ method: 'POST', url: '/v1/cards/import', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: body });
    expect(again.json()).toMatchObject({ imported: 2, unchanged: 2, created: 0 });
  });

  it('imports a JSON array and refuses other bodies', async () => {
    const { app, store } = await build();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/cards/import',
      headers: AUTH,
      payload: [{ cardId: '04A1B2C3', hesCode: 'A1B2345678' }, { cardId: '04A1B2C4', hesCode: '??' }],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ format: 'json', imported: 1, rejected: 1, rejections: [{ line: 2, reason: 'HES_CODE_INVALID' }] });
    expect(store.getBinding('04A1B2C3')?.hesCode).toBe('A1B2345678');

    const obj = await app.inject({ method: 'POST', url: '/v1/cards/import', headers: AUTH, payload: { cardId: '04A1B2C3' } });
    expect(obj.statusCode).toBe(400);
    expect(obj.json().error.code).toBe('HG_BAD_REQUEST');
  });

  it('needs the token for imports too', async () => {
    const { app, store } = await build();
    const res = await app.inject({ method: 'POST', url: '/v1/cards/import', headers: { 'content-type': 'application/x-ndjson' }, payload: '{"cardId":"04A1B2C3","hesCode":"A1B2345678"}' });
    expect(res.statusCode).toBe(401);
    expect(await store.countBindings()).toBe(0);
  });
});
