/**
 * Nothing acknowledged is lost when Redis is killed (-9) and restarted on its data directory,
 * with the SHIPPED ACL file (ops/redis/users.acl through with-passwords.sh) and the documented
 * persistence (appendonly yes, appendfsync always). Redis 7.0 replays its AOF as the `default`
 * user, so every MULTI/EXEC and script the hub wrote (the registry's MULTI, the lease and
 * publisher scripts, which 7.0 logs as MULTI/EXEC of their effects) is refused on replay unless
 * that user may run them: users.acl keeps `default` off (nobody logs in as it) but gives it the
 * rights the replay needs. The mutation: `user default off resetkeys resetchannels -@all`.
 * Real Redis (about 1 s).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisOptions } from '../../../src/city/connect.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { Lease } from '../../../src/city/hub/lease.js';
import { LeaderPublisher } from '../../../src/city/hub/publisher.js';
import { CityRegistry } from '../../../src/city/hub/registry.js';
import { StatusService } from '../../../src/status/status-service.js';
import { tempDir } from '../../cards/helpers.js';
import { newKey, newNodeKey } from '../hub/city-redis.js';
import { aclWithPasswords, cityConfig } from '../ops/acl-file.js';
import { hasRedis, RedisServer } from '../redis-harness.js';

describe.skipIf(!hasRedis)('a Redis killed and restarted with the shipped ACL and AOF', () => {
  const dir = tempDir();
  const key = newKey();
  const nodeKey = newNodeKey();
  const ks = cityKeyspace(key.kid);
  const pw = { hub: 'hub-aof-41' };
  let server: RedisServer;
  let hub: Redis;

  const connectHub = async (): Promise<Redis> => {
    const r = new Redis(redisOptions(cityConfig('hub', pw.hub, { url: server.url }), { connectionName: 'hub-a' }));
    r.on('error', () => undefined);
    await r.connect();
    return r;
  };

  beforeAll(async () => {
    const aclFile = join(dir, 'users.acl');
    writeFileSync(aclFile, aclWithPasswords(dir, { 'hes-gate-hub': pw.hub }));
    server = await RedisServer.start({ aclFile, appendOnly: true });
    hub = await connectHub();
  });
  afterAll(async () => {
    hub?.disconnect();
    await server?.stop();
  });

  it('keeps every binding batch (MULTI), status batch (script) and fencing token the hub was told were written', async () => {
    const registry = new CityRegistry({ redis: hub, key, nodeId: 'hub-a', changesMaxLen: 1000, nodeKey });
    const batches = 20;
    for (let b = 0; b < batches; b++) {
      await registry.putMany(Array.from({ length: 100 }, (_, i) => ({ cardId: `AB${String(b * 100 + i).padStart(6, '0')}`, hesCode: `A${String(b * 100 + i).padStart(9, '0')}`, profile: 'standard' })));
    }
    const lease = new Lease({ redis: hub, keys: ks, nodeId: 'hub-a', leaseMs: 60_000 });
    const acquired = new Promise<{ token: number }>((resolve) => lease.once('acquired', resolve));
    lease.start();
    const { token } = await acquired;
    const status = new StatusService({
      risklessTtlMs: 600_000, riskyTtlMs: 21_600_000, notFoundTtlMs: 60_000, expiredTtlMs: 3_600_000, lastKnownMaxAgeMs: 86_400_000, maxEntries: 10_000,
      ministry: () => Promise.reject(new Error('no lookups in this test')),
      clock: () => 1_000_000,
    });
    const publisher = new LeaderPublisher({ redis: hub, key, nodeKey, nodeId: 'hub-a', token, changesMaxLen: 1000, local: status });
    const published = new Promise((resolve) => publisher.once('published', resolve));
    publisher.publish({ at: 1_000_000, answers: [['A000000001', { kind: 'status', status: 'RISKY', expiresAt: 2_000_000_000_000 }]] });
    await published;
    await lease.stop();
    const before = { bindings: await hub.hlen(ks.bindings), changes: await hub.xlen(ks.changes), statuses: await hub.hlen(ks.statuses), token: await hub.get(ks.leaseToken) };
    expect(before).toEqual({ bindings: batches * 100, changes: batches + 1, statuses: 1, token: String(token) });

    hub.disconnect();
    await server.kill();
    await server.restart();
    hub = await connectHub();
    const after = { bindings: await hub.hlen(ks.bindings), changes: await hub.xlen(ks.changes), statuses: await hub.hlen(ks.statuses), token: await hub.get(ks.leaseToken) };
    // The writes were replayed from the AOF's incremental file (not from a preamble): the case 7.0 got wrong.
    expect(readFileSync(join(server.dir, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8')).toMatch(/type i/);
    expect(after).toEqual(before);
  });

  it('still lets nobody log in as the default user', async () => {
    const anon = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const refused = new Promise<Error>((resolve) => anon.once('error', resolve));
    anon.connect().catch(() => undefined);
    expect((await refused).message).toMatch(/^NOAUTH/);
    anon.disconnect();
    const asDefault = new Redis({ port: server.port, host: '127.0.0.1', username: 'default', password: '', lazyConnect: true, retryStrategy: () => null });
    const wrong = new Promise<Error>((resolve) => asDefault.once('error', resolve));
    asDefault.connect().catch(() => undefined);
    expect((await wrong).message).toMatch(/WRONGPASS|NOAUTH/);
    asDefault.disconnect();
  });
});
