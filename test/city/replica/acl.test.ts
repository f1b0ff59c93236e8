/**
 * The replica as a station runs it in production: logged in as `hes-gate-station` under the
 * shipped ACL (ops/redis/users.acl), which lets a station read the city data and write only
 * lookups and heartbeats. Every command the replica sends — snapshot, reads, shared lookups,
 * heartbeats, connection names — must be allowed; a refusal would show as `degraded`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../src/config/sensitive-value.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { aclWithPasswords } from '../ops/acl-file.js';
import { binding, cardIdFor, cityConfig, codeFor, HubSide, newKey, openStation, riskless, T0, until, type Station } from './helpers.js';

const pw = { hub: 'hub-pass-41', station: 'station-pass-42' };

describe.skipIf(!hasRedis)('the replica under the shipped ACL, as its own user hes-gate-node-<id>', () => {
  let dir: string;
  let server: RedisServer;
  let hubRedis: Redis;
  let station: Station | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hg-replica-acl-'));
    const aclFile = join(dir, 'users.acl');
    writeFileSync(aclFile, aclWithPasswords(dir, { 'hes-gate-hub': pw.hub, 'hes-gate-node-st-acl': pw.station }, ['st-acl']));
    server = await RedisServer.start({ aclFile, appendOnly: false });
    hubRedis = new Redis({ port: server.port, host: '127.0.0.1', username: 'hes-gate-hub', password: pw.hub });
  });
  afterAll(async () => {
    await station?.close();
    hubRedis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('snapshots, applies, shares lookups and writes heartbeats with no command refused', async () => {
    const key = newKey();
    const hub = new HubSide(hubRedis, key);
    await hub.epoch();
    await hub.bindings({ put: [binding(1)], del: [] });
    await hub.statuses({ at: T0, answers: [[codeFor(1), riskless]] });
    station = await openStation({
      key,
      nodeId: 'st-acl',
      nodeKey: await hub.node('st-acl'),
      city: cityConfig({ redisUrl: server.url, redisUser: 'hes-gate-node-st-acl', redisPassword: new Secret(pw.station), heartbeatMs: 500 }),
    });
    const r = station.replica;
    r.start();
    await r.caughtUp();
    await hub.bindings({ put: [binding(2)], del: [] });
    r.sharer.share(codeFor(3), riskless, T0);
    await until(() => r.report().lookupsShared === 1, 'the lookup shared');
    await r.caughtUp();
    await until(async () => (await hubRedis.exists('hg:hb:st-acl')) === 1, 'a heartbeat');
    expect(r.report()).toMatchObject({ state: 'live', reason: null, snapshots: 1, entriesApplied: 1, malformed: 0, lookupsShared: 1 });
    expect(station.store.getBinding(cardIdFor(2))).toBeDefined();
    expect(station.log.lines.filter((l) => l.event === 'city.degraded')).toEqual([]);
    // And what the ACL is for: the station's own login cannot write the city's data.
    const asStation = new Redis({ port: server.port, host: '127.0.0.1', username: 'hes-gate-node-st-acl', password: pw.station });
    await expect(asStation.hset(hub.names.bindings, 'f', 'v')).rejects.toThrow(/NOPERM/);
    // Nor the relayed lookup stream, another station's, or the registry of node keys.
    await expect(asStation.xadd(hub.names.lookups, 'MAXLEN', '0', '*', 'v', 'x')).rejects.toThrow(/NOPERM/);
    await expect(asStation.xadd(hub.names.lookupsOf('st-other'), '*', 'v', 'x')).rejects.toThrow(/NOPERM/);
    await expect(asStation.hset(hub.names.nodes, 'st-acl', '{}')).rejects.toThrow(/NOPERM/);
    expect(await asStation.xlen(hub.names.lookupsOf('st-acl'))).toBe(1);
    asStation.disconnect();
  });
});
