/**
 * The shipped Redis ACL (ops/redis/users.acl) on a real redis-server: a station reads the city
 * and writes only its lookups and heartbeat; a hub does the hub's writes; nobody flushes or
 * reconfigures Redis. Passwords come from files, hashed into the ACL by ops/redis/with-passwords.sh.
 * (Replication and Sentinel under the same file: acl-sentinel.test.ts.)
 * Real Redis (about 1 s).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityKey } from '../../../src/city/city-key.js';
import { redisOptions } from '../../../src/city/connect.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { CityWire } from '../../../src/city/wire.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { aclWithPasswords, cityConfig } from './acl-file.js';

/** The Redis error's first word (NOPERM, NOAUTH, WRONGPASS …), or 'OK'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return String((err as Error).message).split(' ')[0]!;
  }
}

describe.skipIf(!hasRedis)('Redis ACL per role (ops/redis/users.acl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hes-gate-acl-'));
  const key = CityKey.parse(CityKey.generateLine('k1'));
  const ks = cityKeyspace(key.kid);
  const wire = new CityWire(key, ks);
  const passwords = { hub: 'hub-Secret-1', station: 'station-Secret-2' };
  let server: RedisServer;
  let hub: Redis;
  let station: Redis;

  beforeAll(async () => {
    writeFileSync(join(dir, 'users.acl'), aclWithPasswords(dir, { 'hes-gate-hub': passwords.hub, 'hes-gate-node-station-s1': passwords.station }, ['station-s1']));
    // DEBUG enabled on the server, so that refusing it is the ACL's doing.
    server = await RedisServer.start({ aclFile: join(dir, 'users.acl'), appendOnly: false, args: ['--enable-debug-command', 'yes'] });
    // The production connection set-up (CLIENT SETNAME, ready check) must pass the ACL too.
    hub = new Redis(redisOptions(cityConfig('hub', passwords.hub, { url: server.url }), { connectionName: 'hub-a' }));
    station = new Redis(redisOptions(cityConfig('station', passwords.station, { url: server.url }), { connectionName: 'station-s1' }));
    await hub.connect();
    await station.connect();
  });

  afterAll(async () => {
    hub?.disconnect();
    station?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets the hub write the city: epoch, bindings, statuses, the change stream, the lease, in MULTI and in a script', async () => {
    const [field, sealed] = wire.bindingField({ cardId: '04A1B2C3D4', hesCode: 'A1B23456C7', profile: 'adult' });
    expect(await outcome(hub.set(ks.epoch, 'e1', 'NX'))).toBe('OK');
    const multi = await hub.multi().hset(ks.bindings, field, sealed).xadd(ks.changes, 'MAXLEN', '~', '1000', '*', ...wire.bindingsEntry({ put: [], del: [] }, 'hub-a')).exec();
    expect(multi?.every(([err]) => err === null)).toBe(true);
    const token = await hub.incr(ks.leaseToken);
    expect(await hub.set(ks.lease, `hub-a:${token}`, 'PX', 10_000, 'NX')).toBe('OK');
    expect(await outcome(hub.pexpire(ks.lease, 10_000))).toBe('OK');
    // The fenced publish: HSET statuses + XADD changes only while the token is ours.
    const [sf, sv] = wire.statusField({ at: 1, code: 'A1B23456C7', answer: { kind: 'not-found' } });
    const script = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) redis.call('XADD', KEYS[3], '*', 't', 'statuses') return 1";
    expect(await hub.eval(script, 3, ks.leaseToken, ks.statuses, ks.changes, String(token), sf, sv)).toBe(1);
    expect(await outcome(hub.xtrim(ks.changes, 'MAXLEN', 1000))).toBe('OK');
    expect(await outcome(hub.hdel(ks.bindings, 'nothing'))).toBe('OK');
  });

  it('lets a station read the city, share lookups and write its heartbeat', async () => {
    expect(await station.get(ks.epoch)).toBe('e1');
    const read = await station.xread('COUNT', 10, 'STREAMS', ks.changes, '0-0');
    expect(read?.[0]?.[1].length).toBeGreaterThan(0);
    expect(await outcome(station.xinfo('STREAM', ks.changes))).toBe('OK');
    expect(await outcome(station.xrevrange(ks.changes, '+', '-', 'COUNT', 1))).toBe('OK');
    const [, fields] = await station.hscan(ks.bindings, '0', 'COUNT', 100);
    expect(fields).toHaveLength(2);
    expect(await outcome(station.hmget(ks.statuses, 'x', 'y'))).toBe('OK');
    const lookup = wire.lookupEntry({ at: 1, code: 'Z9Y8X7W6V5', answer: { kind: 'expired' } }, 'station-s1');
    expect(await outcome(station.xadd(ks.lookupsOf('station-s1'), 'MAXLEN', '~', '100000', '*', ...lookup))).toBe('OK');
    expect(await station.set(ks.heartbeat('station-s1'), '{"lagEntries":0}', 'PX', 15_000)).toBe('OK');
    expect(await outcome(station.hgetall(ks.nodes))).toBe('OK');
    expect(await outcome(station.multi().set(ks.heartbeat('station-s1'), '{}').pexpire(ks.heartbeat('station-s1'), 15_000).exec())).toBe('OK');
  });

  it('refuses a station every write of the city: bindings, statuses, changes, epoch, lease, token', async () => {
    const denied = [
      station.hset(ks.bindings, 'f', 'v'),
      station.hset(ks.statuses, 'f', 'v'),
      station.xadd(ks.changes, '*', 't', 'statuses'),
      station.set(ks.epoch, 'e2'),
      station.set(ks.lease, 'station-s1:99', 'PX', 10_000),
      station.pexpire(ks.lease, 60_000),
      station.incr(ks.leaseToken),
      station.del(ks.bindings),
      // Its own user writes only its own keys: not the relayed lookups (no MAXLEN 0 wipe), not
      // another station's stream or heartbeat, not the registry of node keys.
      station.xadd(ks.lookups, 'MAXLEN', '0', '*', 'v', 'x'),
      station.xtrim(ks.lookups, 'MAXLEN', 0),
      station.xadd(ks.lookupsOf('station-s2'), '*', 'v', 'x'),
      station.set(ks.heartbeat('station-s2'), '{}'),
      station.hset(ks.nodes, 'station-s1', '{}'),
      station.incr(ks.nodesVersion),
      // A script runs with the caller's ACL: it cannot write where the station may not.
      station.eval("return redis.call('HSET', KEYS[1], 'f', 'v')", 1, ks.bindings),
    ];
    for (const [i, p] of denied.entries()) expect(`${i}: ${await outcome(p)}`).toBe(`${i}: NOPERM`);
    expect(await station.hlen(ks.bindings)).toBe(1);
    expect(await station.get(ks.lease)).toMatch(/^hub-a:/);
  });

  it('refuses both roles the dangerous commands and keys outside hg:*', async () => {
    for (const c of [hub, station]) {
      expect(await outcome(c.flushall())).toBe('NOPERM');
      expect(await outcome(c.flushdb())).toBe('NOPERM');
      expect(await outcome(c.config('GET', 'requirepass'))).toBe('NOPERM');
      expect(await outcome(c.keys('*'))).toBe('NOPERM');
      expect(await outcome(c.call('DEBUG', 'SLEEP', '0'))).toBe('NOPERM');
      expect(await outcome(c.call('ACL', 'LIST'))).toBe('NOPERM');
      expect(await outcome(c.get('other:key'))).toBe('NOPERM');
    }
  });

  it('refuses the default user and a wrong password', async () => {
    const anon = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const anonRefused = new Promise<Error>((resolve) => anon.once('error', resolve));
    anon.connect().catch(() => undefined);
    expect((await anonRefused).message).toMatch(/^NOAUTH/);
    anon.disconnect();
    const wrong = new Redis({ port: server.port, host: '127.0.0.1', username: 'hes-gate-station', password: passwords.hub, lazyConnect: true, retryStrategy: () => null });
    const refused = new Promise<Error>((resolve) => wrong.once('error', resolve));
    wrong.connect().catch(() => undefined);
    expect((await refused).message).toMatch(/^WRONGPASS/);
    wrong.disconnect();
  });
});
