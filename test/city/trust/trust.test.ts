/**
 * No station is trusted for another (issue 21): a real redis-server under the shipped ACL with
 * each station's own user, a real hub (createHub) asking the project's ministry simulator over
 * HTTP, and two stations (real store and status service). Station A holds a valid city key file,
 * its own Redis user and its own signing key, and tries every way it has to make station B pass
 * a RISKY holder: write RISKLESS into the relayed lookup stream (refused by the ACL), share it
 * through its own stream (a hint: the hub asks the ministry and publishes RISKY itself), sign as
 * the hub or with another key (refused, counted as forged). Entries put in the relayed stream
 * with Redis's own rights (the hub user's) are refused by B too: forged, replayed, revoked.
 * Real Redis and HTTP (a few seconds).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCardStore, type CardStore } from '../../../src/cards/store.js';
import { redisOptions } from '../../../src/city/connect.js';
import { createHub, type CityHub } from '../../../src/city/hub/hub.js';
import { addNode, revokeNode } from '../../../src/city/identity/node-registry.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { CityWire } from '../../../src/city/wire.js';
import { Secret } from '../../../src/config/sensitive-value.js';
import { createMinistryClient } from '../../../src/ministry/client.js';
import type { MinistryClient } from '../../../src/ministry/types.js';
import { createLogger } from '../../../src/ops/logger.js';
import { SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../../src/simulator/index.js';
import { StatusService } from '../../../src/status/status-service.js';
import { aclWithPasswords, cityConfig as roleConfig } from '../ops/acl-file.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { cardIdFor, cityConfig, newKey, newNodeKey, openStation, until, type Station } from '../replica/helpers.js';

const pw = { hub: 'hub-pass-61', a: 'st-a-pass-62', b: 'st-b-pass-63' };
const RISKLESS = { kind: 'status', status: 'RISKLESS', expiresAt: Date.now() + 86_400_000 } as const;

describe.skipIf(!hasRedis)('no station is trusted for another (real Redis under the shipped ACL, real hub and simulator)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-trust-'));
  const key = newKey();
  const ks = cityKeyspace(key.kid);
  const keys = { hub: newNodeKey(), a: newNodeKey(), b: newNodeKey() };
  let server: RedisServer;
  let sim: Simulator;
  let client: MinistryClient;
  let store: CardStore;
  let hub: CityHub;
  let asHub: Redis;
  let asA: Redis;
  let a: Station;
  let b: Station;
  const made: Redis[] = [];

  const stationCity = (id: 'st-a' | 'st-b', password: string) =>
    cityConfig({ redisUrl: server.url, redisUser: `hes-gate-node-${id}`, redisPassword: new Secret(password), heartbeatMs: 500 });
  /** B's answer for a code now (B's clock follows the wall clock here). */
  const bHolds = (code: string): string | undefined => b.status.lastKnown(code, Date.now())?.status;

  beforeAll(async () => {
    const aclFile = join(dir, 'users.acl');
    writeFileSync(aclFile, aclWithPasswords(dir, { 'hes-gate-hub': pw.hub, 'hes-gate-node-st-a': pw.a, 'hes-gate-node-st-b': pw.b }, ['st-a', 'st-b']));
    server = await RedisServer.start({ aclFile, appendOnly: false });
    sim = await startSimulator();
    client = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
    const hubCity = roleConfig('hub', pw.hub, { url: server.url });
    const connect = (name: string, blocking: boolean): Redis => {
      const r = new Redis(redisOptions(hubCity, { connectionName: name, blocking }));
      made.push(r);
      return r;
    };
    asHub = connect('operator', false);
    await asHub.connect();
    store = openCardStore({ dataDir: join(dir, 'hub') });
    store.putBindings([{ cardId: cardIdFor(900), hesCode: SAMPLE.RISKLESS_NEAR_EXPIRY, profile: 'standard' }]);
    const status = new StatusService({
      risklessTtlMs: 600_000, riskyTtlMs: 21_600_000, notFoundTtlMs: 60_000, expiredTtlMs: 3_600_000, lastKnownMaxAgeMs: 86_400_000, maxEntries: 1000,
      ministry: () => Promise.reject(new Error('the leader asks in bulk')),
      clock: Date.now,
    });
    hub = createHub({
      key, nodeKey: keys.hub, nodeId: 'hub-a', connect, clock: Date.now, logger: createLogger('silent'),
      leaseMs: 1500, changesMaxLen: 1000, minCallsPerSecond: 20, maxCallsPerSecond: 50, risklessTtlMs: 600_000,
      codes: store, ministry: client, status, minRotationMs: 0,
    });
    const acquired = new Promise((r) => hub.lease.once('acquired', r));
    hub.start();
    await acquired;
    // The operator registers both stations at the hub (hes-gate city node add).
    await addNode(asHub, ks, 'st-a', 'station', keys.a.publicKey, Date.now());
    await addNode(asHub, ks, 'st-b', 'station', keys.b.publicKey, Date.now());
    a = await openStation({ key, nodeId: 'st-a', nodeKey: keys.a, city: stationCity('st-a', pw.a), dir: join(dir, 'a') });
    b = await openStation({ key, nodeId: 'st-b', nodeKey: keys.b, city: stationCity('st-b', pw.b), dir: join(dir, 'b') });
    for (const s of [a, b]) {
      s.clock.set(Date.now());
      s.replica.start();
    }
    await until(async () => (await asHub.get(ks.epoch)) !== null, 'the epoch');
    await Promise.all([a.replica.caughtUp(), b.replica.caughtUp()]);
    asA = new Redis(redisOptions(roleConfig('station', pw.a, { url: server.url }, 'st-a'), { connectionName: 'attacker' }));
    made.push(asA);
    await asA.connect();
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await hub?.stop();
    for (const r of made) r.disconnect();
    await client?.close();
    await sim?.close();
    store?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a new card reaches B with its status from the hub: RISKY, with one bulk call and no call from B', async () => {
    sim.resetCounts();
    expect(await hub.registry.put({ cardId: cardIdFor(1), hesCode: SAMPLE.RISKY, profile: 'standard' })).toBe('created');
    await b.replica.caughtUp();
    expect(b.store.getBinding(cardIdFor(1))?.hesCode).toBe(SAMPLE.RISKY);
    expect(bHolds(SAMPLE.RISKY)).toBe('RISKY');
    expect(hub.report()).toMatchObject({ statusesAsked: 1, statusesMissing: 0 });
  });

  it('A cannot publish RISKLESS for a RISKY holder: not into the relayed stream (ACL), and its own share is only a hint the hub checks', async () => {
    const wireA = new CityWire(key, ks, { nodeId: 'st-a', key: keys.a });
    // Straight into the stream every station reads: its user may not (and may not wipe it).
    await expect(asA.xadd(ks.lookups, '*', ...wireA.lookupEntry({ at: Date.now(), code: SAMPLE.RISKY, answer: RISKLESS }, 'st-a'))).rejects.toThrow(/NOPERM/);
    await expect(asA.xadd(ks.lookups, 'MAXLEN', '0', '*', 'v', 'x')).rejects.toThrow(/NOPERM/);
    // Through its own stream, signed by itself: the leader takes it as a hint, asks the ministry, publishes what it says.
    const before = hub.report();
    const since = (await asHub.xrevrange(ks.changes, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    a.replica.sharer.share(SAMPLE.RISKY, RISKLESS, Date.now());
    await until(() => hub.report().hints === before.hints + 1, 'the hint');
    await until(async () => {
      const after = (await asHub.xrange(ks.changes, `(${since}`, '+')).map(([, f]) => new CityWire(key, ks).changeEntry(f));
      return after.some((e) => e?.type === 'statuses' && e.changes.answers.some(([c]) => c === SAMPLE.RISKY));
    }, 'the leader to publish the code it was hinted');
    await b.replica.caughtUp();
    expect(bHolds(SAMPLE.RISKY)).toBe('RISKY');
    expect(hub.report().relayed).toBe(before.relayed);
  });

  it('a true RISKLESS from A reaches B only as the hub\'s own answer', async () => {
    a.replica.sharer.share(SAMPLE.RISKLESS, RISKLESS, Date.now());
    await until(async () => {
      await b.replica.caughtUp();
      return bHolds(SAMPLE.RISKLESS) === 'RISKLESS';
    }, 'B to hold the hub\'s RISKLESS');
    expect(b.replica.report().lookupsApplied).toBe(0);
  });

  it('the relay refuses and counts what A writes in its own stream as someone else, or signed with another key', async () => {
    const before = hub.report().relayRefused;
    const asHubWire = new CityWire(key, ks, { nodeId: 'st-a', key: keys.a });
    const otherKey = new CityWire(key, ks, { nodeId: 'st-a', key: newNodeKey() });
    await asA.xadd(ks.lookupsOf('st-a'), '*', ...asHubWire.lookupEntry({ at: Date.now(), code: SAMPLE.RISKY, answer: RISKLESS }, 'hub-a'));
    await asA.xadd(ks.lookupsOf('st-a'), '*', ...otherKey.lookupEntry({ at: Date.now(), code: SAMPLE.RISKY, answer: { kind: 'not-found' } }, 'st-a'));
    await until(() => hub.report().relayRefused.malformed === before.malformed + 1 && hub.report().relayRefused.forged === before.forged + 1, 'both refused by the relay');
    expect(bHolds(SAMPLE.RISKY)).toBe('RISKY');
  });

  it('B refuses entries put in the relayed stream with Redis\'s own rights: forged, replayed', async () => {
    const before = b.replica.report().refused;
    const wireA = new CityWire(key, ks, { nodeId: 'st-a', key: keys.a });
    const forger = new CityWire(key, ks, { nodeId: 'hub-a', key: newNodeKey() });
    // Signed by A itself, but a pass: only the hub's word lets a passenger through.
    await asHub.xadd(ks.lookups, '*', ...wireA.lookupEntry({ at: Date.now(), code: SAMPLE.RISKY, answer: RISKLESS }, 'st-a'));
    // Claims to be the hub, signed with another key.
    await asHub.xadd(ks.lookups, '*', ...forger.lookupEntry({ at: Date.now(), code: SAMPLE.RISKY, answer: RISKLESS }, 'hub-a'));
    await b.replica.caughtUp();
    expect(b.replica.report().refused.forged).toBe(before.forged + 2);
    expect(bHolds(SAMPLE.RISKY)).toBe('RISKY');

    // A genuine finding of A, relayed once; the same entry added again is a replay.
    a.replica.sharer.share(SAMPLE.NOT_FOUND, { kind: 'not-found' }, Date.now());
    await until(async () => (await asHub.xlen(ks.lookups)) > 0 && hub.report().relayed > 0, 'the finding relayed');
    await b.replica.caughtUp();
    const applied = b.replica.report().lookupsApplied;
    const [, fields] = (await asHub.xrevrange(ks.lookups, '+', '-', 'COUNT', 1))[0]!;
    await asHub.xadd(ks.lookups, '*', ...fields);
    await b.replica.caughtUp();
    expect(b.replica.report().refused.replayed).toBe(before.replayed + 1);
    expect(b.replica.report().lookupsApplied).toBe(applied);
  });

  it('a revoked station is refused everywhere, and nobody else is touched', async () => {
    await revokeNode(asHub, ks, 'st-a', Date.now());
    const relayBefore = hub.report().relayRefused.revoked;
    a.replica.sharer.share(SAMPLE.RISKLESS_NEAR_EXPIRY, { kind: 'not-found' }, Date.now());
    await until(() => hub.report().relayRefused.revoked === relayBefore + 1, 'the relay to refuse the revoked node');
    // Put in the relayed stream anyway: B refuses it once its heartbeat has re-read the registry.
    await until(() => b.replica.trust.counts.revoked === 1, 'B to learn of the revocation');
    const wireA = new CityWire(key, ks, { nodeId: 'st-a', key: keys.a });
    await asHub.xadd(ks.lookups, '*', ...wireA.lookupEntry({ at: Date.now(), code: SAMPLE.RISKLESS_NEAR_EXPIRY, answer: { kind: 'not-found' } }, 'st-a'));
    await b.replica.caughtUp();
    expect(b.replica.report().refused.revoked).toBe(1);
    // B itself still speaks: its own share is relayed.
    const relayed = hub.report().relayed;
    b.replica.sharer.share(SAMPLE.EXPIRED, { kind: 'expired' }, Date.now());
    await until(() => hub.report().relayed === relayed + 1, 'B\'s finding relayed');
  });
});
