/**
 * A station's statuses tampered on disk are found and repaired from the city. A hub and a station
 * (in-process, city-nodes.ts) against a real redis-server with the SHIPPED ACL file and AOF, and
 * the project's ministry simulator over HTTP: the hub binds codes the ministry answers RISKY and
 * RISKLESS (their statuses go with the write); the station, stopped, has its SQLite `statuses`
 * rows edited — a RISKY made RISKLESS, and one made RISKLESS with a time in the future (which a
 * "newer wins" ingestion would keep for ever); started again, its first round holds the city's
 * answers again, counts them, and persists them.
 * Mutation (seen failing): status-cache.ts `repair` holding the city's answer only when newer
 * (`return this.put(code, answer, at).entry`): the future-dated row stays RISKLESS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeUser } from '../../../src/city/identity/node-registry.js';
import { STORE_FILE } from '../../../src/cards/store.js';
import { createMinistryClient } from '../../../src/ministry/client.js';
import type { MinistryClient } from '../../../src/ministry/types.js';
import { SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../../src/simulator/index.js';
import { aclWithPasswords, cityConfig as roleConfig } from '../ops/acl-file.js';
import { binding, newKey, T0, until } from '../replica/helpers.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { openNode, type CityNode } from './city-nodes.js';

const pw = { hub: 'hub-sc-61', station: 'station-sc-62' };

describe.skipIf(!hasRedis)('statuses tampered in a station\'s SQLite file (shipped ACL, AOF, real Redis, simulator)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-status-check-'));
  const stDir = mkdtempSync(join(tmpdir(), 'hg-status-check-st-'));
  const key = newKey();
  let server: RedisServer;
  let sim: Simulator;
  let ministry: MinistryClient;
  const nodes: CityNode[] = [];
  const node = async (role: 'hub' | 'station', nodeId: string, nodeDir?: string): Promise<CityNode> => {
    const base = roleConfig(role, role === 'hub' ? pw.hub : pw.station, { url: server.url }, nodeId);
    const n = await openNode({ role, nodeId, key, ministry, ...(nodeDir === undefined ? {} : { dir: nodeDir }), city: { ...base, leaseMs: 2000, heartbeatMs: 1000, reconcileMs: 3_600_000 } });
    nodes.push(n);
    return n;
  };
  const rows = (): Map<string, { status: string; fetched_at: number }> => {
    const db = new Database(join(stDir, STORE_FILE), { readonly: true });
    try {
      const all = db.prepare('SELECT code, status, fetched_at FROM statuses').all() as Array<{ code: string; status: string; fetched_at: number }>;
      return new Map(all.map((r) => [r.code, { status: r.status, fetched_at: r.fetched_at }]));
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    const aclFile = join(dir, 'users.acl');
    writeFileSync(aclFile, aclWithPasswords(dir, { 'hes-gate-hub': pw.hub, [nodeUser('st-1')]: pw.station }, ['st-1']));
    server = await RedisServer.start({ aclFile, appendOnly: true });
    sim = await startSimulator();
    ministry = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await ministry?.close();
    await sim?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(stDir, { recursive: true, force: true });
  });

  it('holds the city\'s answer again over a RISKY made RISKLESS, even one dated in the future, counts and persists it', async () => {
    const hub = await node('hub', 'hub-a');
    let st = await node('station', 'st-1', stDir);
    const codes = [SAMPLE.RISKY, SAMPLE.RISKY_NO_Z, SAMPLE.RISKLESS];
    await hub.hub!.registry.putMany(codes.map((hesCode, i) => ({ ...binding(i + 1), hesCode })));
    await st.replica.caughtUp();
    // The statuses came with the write and are persisted through the store worker.
    await until(() => rows().size === 3, 'the station persisted the three statuses');
    expect([...rows()].map(([c, r]) => [c, r.status]).sort()).toEqual([[SAMPLE.RISKLESS, 'RISKLESS'], [SAMPLE.RISKY, 'RISKY'], [SAMPLE.RISKY_NO_Z, 'RISKY']].sort());
    expect(await st.reconciler.round()).toBe('agree');
    expect(st.reconciler.report()).toMatchObject({ statusDivergences: 0, repairedStatuses: 0 });
    await st.stop();
    nodes.splice(nodes.indexOf(st), 1);

    // Someone edits the stopped station's SQLite file.
    const db = new Database(join(stDir, STORE_FILE));
    db.prepare("UPDATE statuses SET status = 'RISKLESS' WHERE code = ?").run(SAMPLE.RISKY);
    db.prepare("UPDATE statuses SET status = 'RISKLESS', fetched_at = ? WHERE code = ?").run(T0 + 3_600_000, SAMPLE.RISKY_NO_Z);
    db.close();

    st = await node('station', 'st-1', stDir);
    // What it restored is what decides until the check: the edit is live.
    expect(st.status.lastKnown(SAMPLE.RISKY, st.clock.now())?.status).toBe('RISKLESS');
    expect(st.status.lastKnown(SAMPLE.RISKY_NO_Z, st.clock.now())?.status).toBe('RISKLESS');
    // Its first round that reaches Redis checks them (the one started on its own, or this one).
    await until(async () => {
      await st.reconciler.round();
      return st.reconciler.report().statusDivergences > 0;
    }, 'the station checked what it restored');
    expect(st.status.lastKnown(SAMPLE.RISKY, st.clock.now())?.status).toBe('RISKY');
    expect(st.status.lastKnown(SAMPLE.RISKY_NO_Z, st.clock.now())?.status).toBe('RISKY');
    expect(st.status.lastKnown(SAMPLE.RISKLESS, st.clock.now())?.status).toBe('RISKLESS');
    expect(st.reconciler.report()).toMatchObject({ divergences: 1, statusDivergences: 2, repairedStatuses: 2 });
    expect(st.log.lines.some((l) => l.event === 'city.divergence' && l.what === 'statuses' && l.differing === 2)).toBe(true);
    // Persisted too: the next start does not load the edit again (the future time is the city's now).
    await until(() => rows().get(SAMPLE.RISKY_NO_Z)?.status === 'RISKY' && rows().get(SAMPLE.RISKY)?.status === 'RISKY', 'the repair persisted');
    expect(rows().get(SAMPLE.RISKY_NO_Z)!.fetched_at).toBeLessThanOrEqual(T0);
    // Once per start: later rounds read no statuses.
    const bytes = st.reconciler.report().bytesRead;
    expect(await st.reconciler.round()).toBe('agree');
    expect(st.reconciler.report().statusDivergences).toBe(2);
    expect(st.reconciler.report().bytesRead - bytes).toBeLessThan(200);
  });
});
