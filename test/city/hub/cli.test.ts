/**
 * `hes-gate city keygen|status|node` and `hes-gate cards import` in a city, as the real command
 * run from the sources, against a real redis-server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CityKey } from '../../../src/city/city-key.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { runCli } from '../../cli/cli.js';
import { cardIdFor, codeFor } from '../../cards/helpers.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { dumpAll, wireOf } from './city-redis.js';

describe('hes-gate city keygen', () => {
  it('prints a key line that parses, and says where it goes and with which mode', async () => {
    const r = await runCli(['city', 'keygen', '--kid', 'k2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^k2:[A-Za-z0-9+/]{43}=\n$/);
    expect(CityKey.parse(r.stdout).kid).toBe('k2');
    expect(r.stderr).toMatch(/0600/);
    const again = await runCli(['city', 'keygen']);
    expect(again.stdout.startsWith('k1:')).toBe(true);
    expect(again.stdout).not.toBe(r.stdout.replace('k2', 'k1'));
  });

  it('refuses a bad key id with HG_CITY_KEY', async () => {
    const r = await runCli(['city', 'keygen', '--kid', 'Not OK']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HG_CITY_KEY/);
  });
});

/** Real redis-server; the command reads the city settings from HES_GATE_CITY_* like the service. */
describe.skipIf(!hasRedis)('hes-gate cards import and city status in a city (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  let dir: string;
  const keyLine = CityKey.generateLine('k1');
  const key = CityKey.parse(keyLine);
  const keys = cityKeyspace(key.kid);

  beforeAll(async () => {
    server = await RedisServer.start({ appendOnly: false });
    redis = new Redis(server.port, '127.0.0.1');
    dir = mkdtempSync(join(tmpdir(), 'hg-city-cli-'));
    writeFileSync(join(dir, 'city.key'), `${keyLine}\n`, { mode: 0o600 });
    for (const role of ['hub', 'station']) expect((await runCli(['city', 'node', 'keygen', '--out', join(dir, `${role}.node-key`)])).code).toBe(0);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  const env = (role: string): NodeJS.ProcessEnv => ({
    HES_GATE_CITY_ROLE: role,
    HES_GATE_CITY_REDIS_URL: server.url,
    HES_GATE_CITY_KEY_FILE: join(dir, 'city.key'),
    HES_GATE_CITY_NODE_KEY_FILE: join(dir, `${role}.node-key`),
    HES_GATE_DATA_DIR: join(dir, `data-${role}`),
    HES_GATE_STATION_ID: `${role}-1`,
  });

  it('on a hub, imports a file into the city registry (one entry per 500 rows), and city status shows it', async () => {
    const file = join(dir, 'cards.ndjson');
    const rows = Array.from({ length: 1100 }, (_, i) => JSON.stringify({ cardId: cardIdFor(i), hesCode: codeFor(i), profile: 'standard' }));
    writeFileSync(file, `${rows.join('\n')}\n{"cardId":"zz"}\n`);
    const r = await runCli(['cards', 'import', file, '--json', '--create'], { env: env('hub') });
    expect(r.stderr).not.toMatch(/HG_/);
    expect(JSON.parse(r.stdout)).toMatchObject({ imported: 1100, created: 1100, rejected: 1 });
    expect(r.code).toBe(1); // one row rejected
    expect(await redis.hlen(keys.bindings)).toBe(1100);
    const wire = wireOf(key);
    const entries = (await redis.xrange(keys.changes, '-', '+')).map(([, f]) => wire.changeEntry(f));
    expect(entries.map((e) => (e?.type === 'bindings' ? `${e.src}:${e.changes.put.length}` : '?'))).toEqual(['hub-1:500', 'hub-1:500', 'hub-1:100']);
    const dump = await dumpAll(redis);
    expect(dump).not.toContain(cardIdFor(7));
    expect(dump).not.toContain(codeFor(7));

    await redis.set(keys.lease, 'hub-2:5', 'PX', 60_000);
    await redis.set(keys.leaseToken, '5');
    const seen = Date.now() - 4000;
    await redis.set(keys.heartbeat('station-9'), JSON.stringify({ role: 'station', version: '9.9.9', state: 'live', lagSeconds: 0.5, lagEntries: 0, time: seen, refused: { forged: 2, replayed: 0, revoked: 0 } }), 'PX', 60_000);
    const s = await runCli(['city', 'status'], { env: env('station') });
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/Hub hub-2 holds the refresher lease with fencing token 5/);
    expect(s.stdout).toMatch(/The change stream holds 3 entries/);
    expect(s.stdout).toMatch(/Snapshot: 1100 bindings, 0 statuses/);
    // A table row: not registered, live, its version and lag, seen seconds ago with the ISO time, 2 refused.
    const row = s.stdout.split('\n').find((l) => l.startsWith('station-9'))!;
    expect(row).toMatch(/station-9 +station +NOT REGISTERED +live +9\.9\.9 +0\.5 s \/ 0 entries +\d s ago \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\) +2 +— +—$/);
    expect(s.stdout).not.toMatch(/\{"|\b1\d{12}\b/); // no raw JSON, no epoch ms
    expect(s.stdout).toMatch(/NOT registered: their word is refused everywhere/);
    const json = JSON.parse((await runCli(['city', 'status', '--json'], { env: env('hub') })).stdout);
    expect(json).toMatchObject({ kid: 'k1', leaseHolder: 'hub-2', fencingToken: 5, bindings: 1100, changes: { length: 3 } });
  });

  it('on a station, refuses to import (HG_CITY_REPLICA): bindings change at a hub', async () => {
    const file = join(dir, 'one.csv');
    writeFileSync(file, 'card_id,hes_code\n04AA0001,A1B2345678\n');
    const r = await runCli(['cards', 'import', file], { env: env('station') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HG_CITY_REPLICA/);
  });

  it('says HG_CITY_UNAVAILABLE when the city\'s Redis cannot be reached', async () => {
    const r = await runCli(['city', 'status'], { env: { ...env('hub'), HES_GATE_CITY_REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HG_CITY_UNAVAILABLE/);
  });

  it('registers, lists and revokes a node identity at a hub, and prints the node\'s own ACL user', async () => {
    const keygen = await runCli(['city', 'node', 'keygen', '--out', join(dir, 'st-7.node-key')]);
    const publicKey = keygen.stdout.trim();
    expect(publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect((await runCli(['city', 'node', 'keygen', '--out', join(dir, 'st-7.node-key')])).stderr).toMatch(/HG_CITY_NODE_KEY/); // never overwritten
    const add = await runCli(['city', 'node', 'add', 'st-7', '--role', 'station', '--public-key', publicKey], { env: env('hub') });
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/ACL SETUSER hes-gate-node-st-7 on resetkeys resetchannels %R~hg:\* %RW~hg:\*:lookups:st-7 %RW~hg:hb:st-7 /);
    expect((await runCli(['city', 'node', 'add', 'st-8', '--role', 'station', '--public-key', 'not-a-key'], { env: env('hub') })).stderr).toMatch(/HG_CITY_NODE/);
    const revoke = await runCli(['city', 'node', 'revoke', 'st-7'], { env: env('hub') });
    expect(revoke.stdout).toMatch(/ACL SETUSER hes-gate-node-st-7 off/);
    expect((await runCli(['city', 'node', 'revoke', 'st-99'], { env: env('hub') })).stderr).toMatch(/HG_CITY_NODE/);
    const list = await runCli(['city', 'node', 'list'], { env: env('hub') });
    expect(list.stdout).toMatch(/st-7 +station +REVOKED \d{4}-/);
    const status = await runCli(['city', 'status'], { env: env('hub') });
    expect(status.stdout.split('\n').find((l) => l.startsWith('st-7'))).toMatch(/st-7 +station +REVOKED +— +— +— +not heard from/);
  });
});
