/**
 * Redis killed (SIGKILL) and restarted on its data directory in the middle of an import, with
 * the SHIPPED ACL file and the documented persistence (appendonly yes, appendfsync always): every
 * batch the hub acknowledged is afterwards in Redis, in the hub's record and in every station's
 * replica; batches that failed were not acknowledged (503) and an import run again finishes the
 * job; the fencing token never goes back. In-process nodes (city-nodes.ts), real redis-server,
 * the project's ministry simulator. Mutation (seen failing): users.acl `user default off
 * resetkeys resetchannels -@all` (the AOF replay refuses the hub's scripts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeUser } from '../../../src/city/identity/node-registry.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { isHesGateError } from '../../../src/errors.js';
import { createMinistryClient } from '../../../src/ministry/client.js';
import type { MinistryClient } from '../../../src/ministry/types.js';
import { SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../../src/simulator/index.js';
import { tempDir } from '../../cards/helpers.js';
import { aclWithPasswords, cityConfig as roleConfig } from '../ops/acl-file.js';
import { binding, newKey, until } from '../replica/helpers.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { cityBindings, openNode, type CityNode } from './city-nodes.js';

const pw = { hub: 'hub-kill-61', station: 'station-kill-62', admin: 'admin-kill-63' };

describe.skipIf(!hasRedis)('Redis killed and restarted mid-import (shipped ACL, AOF)', () => {
  const dir = tempDir();
  const key = newKey();
  const names = cityKeyspace(key.kid);
  let server: RedisServer;
  let sim: Simulator;
  let ministry: MinistryClient;
  const nodes: CityNode[] = [];

  beforeAll(async () => {
    const aclFile = join(dir, 'users.acl');
    const acl = aclWithPasswords(dir, { 'hes-gate-hub': pw.hub, [nodeUser('st-1')]: pw.station }, ['st-1']);
    writeFileSync(aclFile, `${acl}user ops-admin on #${(await import('node:crypto')).createHash('sha256').update(pw.admin).digest('hex')} ~* &* +@all\n`);
    server = await RedisServer.start({ aclFile, appendOnly: true });
    sim = await startSimulator();
    ministry = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await ministry?.close();
    await sim?.close();
    await server?.stop();
  });

  it('keeps every acknowledged batch everywhere, and the fencing token never goes back', { timeout: 60_000 }, async () => {
    const open = async (role: 'hub' | 'station', nodeId: string): Promise<CityNode> => {
      const base = roleConfig(role, role === 'hub' ? pw.hub : pw.station, { url: server.url }, nodeId);
      const n = await openNode({ role, nodeId, key, ministry, city: { ...base, leaseMs: 2000, heartbeatMs: 1000, connectTimeoutMs: 500, reconcileMs: 3_600_000 } });
      nodes.push(n);
      return n;
    };
    const hub = await open('hub', 'hub-a');
    const st = await open('station', 'st-1');
    await until(() => hub.hub!.lease.holding, 'the hub holds the lease');
    const tokenBefore = hub.hub!.lease.token!;

    const acknowledged = new Map<string, string>();
    const BATCHES = 40;
    let restarted: Promise<void> = Promise.resolve();
    let killedAt = -1;
    for (let b = 0; b < BATCHES; b++) {
      const batch = Array.from({ length: 50 }, (_, i) => binding(b * 50 + i));
      const write = hub.hub!.registry.putMany(batch);
      if (b === 15) {
        // Kill -9 with this batch in flight; the next batches fail until Redis is back.
        killedAt = b;
        await server.kill();
        restarted = server.restart();
      }
      try {
        await write;
        for (const x of batch) acknowledged.set(x.cardId, `${x.hesCode}/${x.profile}`);
      } catch (err) {
        expect(isHesGateError(err) && ['HG_CITY_UNAVAILABLE', 'HG_CITY_NOT_DURABLE'].includes(err.code)).toBe(true);
        await restarted;
        await until(() => hub.replica.report().state === 'live', 'the hub reconnected', 20_000);
      }
    }
    expect(killedAt).toBe(15);
    expect(acknowledged.size).toBeGreaterThanOrEqual(15 * 50);

    const admin = new Redis({ port: server.port, host: '127.0.0.1', username: 'ops-admin', password: pw.admin });
    try {
      const inRedis = await cityBindings(admin, key);
      for (const [card, v] of acknowledged) expect(inRedis.get(card)).toBe(v);
      await st.replica.caughtUp();
      await hub.replica.caughtUp();
      const [inHub, inStation] = [hub.bindings(), st.bindings()];
      for (const [card, v] of acknowledged) {
        expect(inHub.get(card)).toBe(v);
        expect(inStation.get(card)).toBe(v);
      }
      // The digests agree everywhere: nothing half-written survived the kill.
      expect(await hub.reconciler.round()).toBe('agree');
      expect(await st.reconciler.round()).toBe('agree');
      // The token in Redis never went back, and a new holder's is higher than every earlier one.
      expect(Number(await admin.get(names.leaseToken))).toBeGreaterThanOrEqual(tokenBefore);
      await hub.hub!.lease.stop();
      const other = await open('hub', 'hub-b');
      await until(() => other.hub!.lease.holding, 'the other hub takes the lease', 20_000);
      expect(other.hub!.lease.token!).toBeGreaterThan(tokenBefore);
    } finally {
      admin.disconnect();
    }
  });
});
