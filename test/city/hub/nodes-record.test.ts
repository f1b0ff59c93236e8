/**
 * The node registry kept in a hub's record (src/city/hub/nodes-record.ts), against a real
 * redis-server and a real store file: a revocation is never undone by a copy that lost it — not
 * when the revoked hub registers its same key again after a FLUSHALL (the record keeps it revoked
 * and writes it back over the fresh registration), and not in the record itself.
 * Mutation (seen failing): `mergeRecord` returning `seen` always.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { NodesRecord } from '../../../src/city/hub/nodes-record.js';
import { addNode, parseRecord, readRegistry, registerSelf, revokeNode } from '../../../src/city/identity/node-registry.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { newKey, newNodeKey } from '../replica/helpers.js';

describe.skipIf(!hasRedis)('the node registry in a hub\'s record (real Redis, real store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-nodes-record-'));
  const names = cityKeyspace(newKey().kid);
  let server: RedisServer;
  let redis: Redis;
  let store: StationStore;

  beforeAll(async () => {
    server = await RedisServer.start({ appendOnly: false });
    redis = new Redis({ port: server.port, host: '127.0.0.1' });
    store = await openStationStore({ dataDir: dir });
  });
  afterAll(async () => {
    redis?.disconnect();
    await store?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a revoked hub that registers its same key again after a FLUSHALL stays revoked; a station comes back', async () => {
    const hubKey = newNodeKey();
    const stKey = newNodeKey();
    const record = new NodesRecord(redis, names, store);
    await registerSelf(redis, names, 'hub-b', hubKey.publicKey, 1000);
    await addNode(redis, names, 'st-9', 'station', stKey.publicKey, 2000);
    await revokeNode(redis, names, 'hub-b', 3000);
    expect(await record.mirror()).toBe(2);
    expect(await record.mirror()).toBe(0);

    await redis.flushall();
    // The revoked hub starts again with the same key: its HSETNX finds nothing and writes it unrevoked.
    await registerSelf(redis, names, 'hub-b', hubKey.publicKey, 4000);
    // A mirror in between does not undo the revocation in the record.
    await record.mirror();
    const kept = new Map((await store.cityNodes()).map(([id, t]) => [id, parseRecord(t)]));
    expect(kept.get('hub-b')?.revoked).toBe(3000);

    expect(await record.restore()).toBe(2);
    const { version, nodes } = await readRegistry(redis, names);
    expect(nodes.get('hub-b')).toEqual({ role: 'hub', key: hubKey.publicKey, added: 1000, revoked: 3000 });
    expect(nodes.get('st-9')).toEqual({ role: 'station', key: stKey.publicKey, added: 2000, revoked: null });
    expect(Number(version)).toBeGreaterThan(1);

    // A new key for the hub (the operator's way to trust it again) is taken over the recorded revocation.
    const fresh = newNodeKey();
    await addNode(redis, names, 'hub-b', 'hub', fresh.publicKey, 5000);
    await record.mirror();
    expect(parseRecord((await store.cityNodes()).find(([id]) => id === 'hub-b')![1])).toMatchObject({ key: fresh.publicKey, revoked: null });
  });
});
