import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { CityRegistry } from '../../../src/city/hub/registry.js';
import { hubBindingWriter, replicaBindingWriter } from '../../../src/city/hub/writers.js';
import type { ChangeEntry } from '../../../src/city/wire.js';
import { createHttpApp } from '../../../src/http/app.js';
import { cardRoutes, type BindingWriter } from '../../../src/http/routes/cards.js';
import { createLogger } from '../../../src/ops/logger.js';
import { cardIdFor, codeFor, tempDir } from '../../cards/helpers.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { dumpAll, newKey, newNodeKey, testConnect, wireOf } from './city-redis.js';

const TOKEN = 'correct-horse-battery-staple';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const key = newKey();
const keys = cityKeyspace(key.kid);
const wire = wireOf(key);

let app: FastifyInstance | undefined;
let store: StationStore | undefined;

async function build(writer: BindingWriter): Promise<FastifyInstance> {
  store = await openStationStore({ dataDir: tempDir() });
  app = createHttpApp({ bodyLimitBytes: 8192, logger: createLogger('silent') });
  await app.register(cardRoutes, { store, writer, adminToken: TOKEN });
  await app.ready();
  return app;
}

afterEach(async () => {
  await app?.close();
  await store?.close();
  app = undefined;
  store = undefined;
});

describe('card admin API on a station of a city', () => {
  it('refuses every write with HG_CITY_REPLICA (409) and still reads the local replica', async () => {
    const a = await build(replicaBindingWriter());
    const put = await a.inject({ method: 'PUT', url: '/v1/cards/04A1B2C3', headers: AUTH, payload: { hesCode: 'A1B2345678' } });
    expect(put.statusCode).toBe(409);
    expect(put.json().error.code).toBe('HG_CITY_REPLICA');
    const del = await a.inject({ method: 'DELETE', url: '/v1/cards/04A1B2C3', headers: AUTH });
    expect(del.statusCode).toBe(409);
    const imp = await a.inject({ method: 'POST', url: '/v1/cards/import', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: '{"cardId":"04A1B2C3","hesCode":"A1B2345678"}\n' });
    expect(imp.statusCode).toBe(409);
    expect(imp.json().error.code).toBe('HG_CITY_REPLICA');
    expect((await a.inject({ method: 'GET', url: '/v1/cards/04A1B2C3', headers: AUTH })).statusCode).toBe(404);
    expect(store!.bindingCount).toBe(0);
  });
});

/** Real redis-server. */
describe.skipIf(!hasRedis)('card admin API on a hub (real Redis)', () => {
  let server: RedisServer;
  let connect: ReturnType<typeof testConnect>;
  let redis: Redis;

  beforeAll(async () => {
    server = await RedisServer.start({ appendOnly: false });
    connect = testConnect(server.port);
    redis = connect('hub', false);
    redis.on('error', () => undefined);
    await redis.connect();
  });
  afterAll(async () => {
    connect.closeAll();
    await server.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  const hubApp = async (): Promise<FastifyInstance> => {
    const registry = new CityRegistry({ redis, key, nodeId: 'hub-a', changesMaxLen: 10_000, nodeKey: newNodeKey() });
    // The journal is the local store's, opened by build().
    return build(hubBindingWriter({ registry, journal: (e) => store!.journal(e), clock: () => Date.parse('2026-11-30T12:00:00Z') }));
  };
  const entries = async (): Promise<Array<ChangeEntry | undefined>> => (await redis.xrange(keys.changes, '-', '+')).map(([, f]) => wire.changeEntry(f));

  it('writes a PUT and a DELETE to the city, not to the local replica, answering as before, journaled here masked', async () => {
    const a = await hubApp();
    const put = await a.inject({ method: 'PUT', url: '/v1/cards/04A1B2C3', headers: AUTH, payload: { hesCode: 'a1b2-345678', profile: 'Student' } });
    expect(put.statusCode).toBe(201);
    expect(put.json()).toMatchObject({ cardId: '04A1B2C3', hesCode: 'A1B2-****-**', profile: 'student', outcome: 'created' });
    const again = await a.inject({ method: 'PUT', url: '/v1/cards/04A1B2C3', headers: AUTH, payload: { hesCode: 'A1B2345678', profile: 'student' } });
    expect(again.json().outcome).toBe('unchanged');
    expect(store!.bindingCount).toBe(0);
    expect((await a.inject({ method: 'DELETE', url: '/v1/cards/04A1B2C3', headers: AUTH })).statusCode).toBe(204);
    expect((await a.inject({ method: 'DELETE', url: '/v1/cards/04A1B2C3', headers: AUTH })).statusCode).toBe(404);
    expect(await entries()).toMatchObject([
      { type: 'bindings', src: 'hub-a', changes: { put: [{ cardId: '04A1B2C3', hesCode: 'A1B2345678', profile: 'student' }], del: [] } },
      { type: 'bindings', src: 'hub-a', changes: { put: [], del: ['04A1B2C3'] } },
    ]);
    const journal = store!.readJournal(10).map((e) => e.action);
    expect(journal).toEqual(['unbind', 'bind']);
    expect(JSON.stringify(store!.readJournal(10))).not.toContain('A1B2345678');
  });

  it('imports NDJSON in batches of 500 to the registry: one stream entry per batch with changes, rejections reported, a re-run writes nothing', async () => {
    const a = await hubApp();
    const rows = Array.from({ length: 1200 }, (_, i) => JSON.stringify({ cardId: cardIdFor(i), hesCode: codeFor(i) }));
    rows.splice(700, 0, '{"cardId":"nothex!","hesCode":"A1B2345678"}', 'not json');
    const body = `${rows.join('\n')}\n`;
    const headers = { ...AUTH, 'content-type': 'application/x-ndjson' };
    const first = await a.inject({ method: 'POST', url: '/v1/cards/import', headers, payload: body });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ linesRead: 1202, imported: 1200, created: 1200, updated: 0, unchanged: 0, rejected: 2 });
    expect(first.json().rejections).toEqual([{ line: 701, reason: 'CARD_ID_INVALID' }, { line: 702, reason: 'MALFORMED_ROW' }]);
    const after1 = await entries();
    expect(after1.map((e) => (e?.type === 'bindings' ? e.changes.put.length : -1))).toEqual([500, 500, 200]);
    expect(await redis.hlen(keys.bindings)).toBe(1200);

    const second = await a.inject({ method: 'POST', url: '/v1/cards/import', headers, payload: body });
    expect(second.json()).toMatchObject({ imported: 1200, created: 0, unchanged: 1200, rejected: 2 });
    expect(await entries()).toHaveLength(3);
    // The journal's summary rows carry the registry's counts.
    expect(store!.readJournal(10).map((e) => e.detail)).toEqual([
      expect.objectContaining({ created: 0, unchanged: 1200, imported: 1200 }),
      expect.objectContaining({ created: 1200, unchanged: 0, imported: 1200 }),
    ]);
    const dump = await dumpAll(redis);
    for (const i of [0, 699, 1199]) {
      expect(dump).not.toContain(cardIdFor(i));
      expect(dump).not.toContain(codeFor(i));
    }
  });

  it('imports CSV and a small JSON array too', async () => {
    const a = await hubApp();
    const csv = await a.inject({ method: 'POST', url: '/v1/cards/import', headers: { ...AUTH, 'content-type': 'text/csv' }, payload: 'card_id,hes_code,profile\n04AA0001,A1B2345678,senior\n04AA0002,C3D4567890,\n' });
    expect(csv.json()).toMatchObject({ format: 'csv', created: 2 });
    const json = await a.inject({ method: 'POST', url: '/v1/cards/import', headers: { ...AUTH, 'content-type': 'application/json' }, payload: [{ cardId: '04AA0001', hesCode: 'A1B2345678', profile: 'senior' }, { cardId: '04AA0003', hesCode: 'E5F6789012' }] });
    expect(json.json()).toMatchObject({ format: 'json', created: 1, unchanged: 1 });
    expect(await redis.hlen(keys.bindings)).toBe(3);
  });

  it('answers HG_CITY_UNAVAILABLE (503) while Redis is away', async () => {
    const a = await hubApp();
    await server.kill();
    try {
      const put = await a.inject({ method: 'PUT', url: '/v1/cards/04A1B2C3', headers: AUTH, payload: { hesCode: 'A1B2345678' } });
      expect(put.statusCode).toBe(503);
      expect(put.json().error.code).toBe('HG_CITY_UNAVAILABLE');
      expect(put.body).not.toContain('A1B2345678');
    } finally {
      await server.restart();
      if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
    }
  });
});
