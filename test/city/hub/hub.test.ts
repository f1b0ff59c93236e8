import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { openCardStore, type CardStore } from '../../../src/cards/store.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { createHub, leaderBudget, type CityHub } from '../../../src/city/hub/hub.js';
import type { ChangeEntry } from '../../../src/city/wire.js';
import { createMinistryClient } from '../../../src/ministry/client.js';
import type { MinistryClient } from '../../../src/ministry/types.js';
import { createLogger } from '../../../src/ops/logger.js';
import { NO_LIMIT_EXPIRY, SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../../src/simulator/index.js';
import { StatusService } from '../../../src/status/status-service.js';
import { cardIdFor, tempDir } from '../../cards/helpers.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { newKey, newNodeKey, testConnect, wireOf } from './city-redis.js';

describe('the leader\'s budget', () => {
  it('fits a rotation of B codes in 80 % of the RISKLESS freshness, within the configured floor and cap', () => {
    // 1M codes: 2000 calls in 480 s.
    expect(leaderBudget(1_000_000, 600_000, 1, 10)).toBeCloseTo(2000 / 480, 6);
    expect(leaderBudget(100_000, 600_000, 1, 10)).toBe(1);
    expect(leaderBudget(8_000_000, 600_000, 1, 10)).toBe(10);
    expect(leaderBudget(0, 600_000, 0.5, 10)).toBe(0.5);
  });
});

type Entry = { id: string; e: ChangeEntry | undefined };

/** Real redis-server, the project's ministry simulator over HTTP, a real card store as each hub's replica. */
describe.skipIf(!hasRedis)('hubs (real Redis, real simulator)', () => {
  const key = newKey();
  const keys = cityKeyspace(key.kid);
  const wire = wireOf(key);
  let server: RedisServer;
  let connect: ReturnType<typeof testConnect>;
  let sim: Simulator;
  let client: MinistryClient;
  let store: CardStore;
  let reader: Redis;
  let hubs: CityHub[] = [];

  const codes = [SAMPLE.RISKLESS, SAMPLE.RISKY, SAMPLE.NOT_FOUND, SAMPLE.RISKLESS_NEAR_EXPIRY];

  beforeEach(async () => {
    server = await RedisServer.start({ appendOnly: false });
    connect = testConnect(server.port);
    sim = await startSimulator();
    client = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
    store = openCardStore({ dataDir: tempDir() });
    store.putBindings(codes.map((hesCode, i) => ({ cardId: cardIdFor(i), hesCode, profile: 'standard' })));
    reader = connect('reader', true);
    reader.on('error', () => undefined);
    await reader.connect();
  });
  afterEach(async () => {
    await Promise.all(hubs.map((h) => h.stop()));
    hubs = [];
    connect.closeAll();
    await client.close();
    await sim.close();
    store.close();
    await server.stop();
  });

  function hub(nodeId: string, leaseMs = 1500, budget: { min: number; max: number; risklessTtlMs: number } = { min: 20, max: 50, risklessTtlMs: 600_000 }): CityHub {
    const status = new StatusService({
      risklessTtlMs: 600_000, riskyTtlMs: 21_600_000, notFoundTtlMs: 60_000, expiredTtlMs: 3_600_000, lastKnownMaxAgeMs: 86_400_000, maxEntries: 1000,
      ministry: () => Promise.reject(new Error('no single lookups here')),
      clock: Date.now,
    });
    const h = createHub({
      key, nodeKey: newNodeKey(), nodeId, connect, clock: Date.now, logger: createLogger('silent'),
      leaseMs, changesMaxLen: 1000, minCallsPerSecond: budget.min, maxCallsPerSecond: budget.max, risklessTtlMs: budget.risklessTtlMs,
      codes: store, ministry: client, status, minRotationMs: 0,
    });
    hubs.push(h);
    return h;
  }

  /** Read the change stream (XREAD BLOCK: no polling) until `done` says so. */
  async function readUntil(after: string, done: (seen: Entry[]) => boolean, timeoutMs = 10_000): Promise<Entry[]> {
    const seen: Entry[] = [];
    const end = Date.now() + timeoutMs;
    let last = after;
    while (!done(seen)) {
      if (Date.now() > end) throw new Error(`the stream did not show it within ${timeoutMs} ms (${seen.length} entries)`);
      const reply = (await reader.xread('COUNT', 100, 'BLOCK', 500, 'STREAMS', keys.changes, last)) as Array<[string, Array<[string, string[]]>]> | null;
      for (const [id, flat] of reply?.[0]?.[1] ?? []) {
        seen.push({ id, e: wire.changeEntry(flat) });
        last = id;
      }
    }
    return seen;
  }

  const statusesOf = (seen: Entry[]) => seen.flatMap(({ e }) => (e?.type === 'statuses' ? [e] : []));

  it('the holder rotates the replica\'s bound codes, publishes answers then only changes, and a standby takes over when it stops', async () => {
    const a = hub('hub-a');
    a.start();
    await new Promise((r) => a.lease.once('acquired', r));
    const b = hub('hub-b');
    b.start();

    // First rotation: every bound code is new to the city, the range covers them all.
    const first = statusesOf(await readUntil('0-0', (s) => statusesOf(s).some((e) => e.changes.checked?.through === null)));
    expect(first.every((e) => e.src === 'hub-a' && e.fence === 1)).toBe(true);
    expect(new Set(first.flatMap((e) => e.changes.answers.map(([c]) => c)))).toEqual(new Set(codes));
    expect(a.report()).toMatchObject({ leaseHolder: 'hub-a', holding: true, token: 1, callsPerSecond: 20, fenced: 0 });
    expect(b.report()).toMatchObject({ holding: false, callsPerSecond: null, rotationProgress: null });

    // A code turns RISKY at the ministry: the next steps list it alone as changed.
    const lastId = (await reader.xrevrange(keys.changes, '+', '-', 'COUNT', 1))[0]![0];
    sim.setCode(SAMPLE.RISKLESS, { status: 'RISKY', expirationDate: NO_LIMIT_EXPIRY, note: 'turned RISKY during the test' });
    const turned = statusesOf(await readUntil(lastId, (s) => statusesOf(s).some((e) => e.changes.answers.length > 0)));
    const changed = turned.find((e) => e.changes.answers.length > 0)!;
    expect(changed.changes.answers).toEqual([[SAMPLE.RISKLESS, { kind: 'status', status: 'RISKY', expiresAt: expect.any(Number) }]]);
    // Every unchanged step still says what it checked, listing nothing.
    for (const e of turned) expect(e.changes.checked).toBeDefined();

    // The snapshot hash has every answered code.
    const hash = await reader.hgetall(keys.statuses);
    expect(Object.entries(hash).map(([f, v]) => wire.status(f, v)?.code).sort()).toEqual([...codes].sort());

    // The holder stops (lets the lease go): the standby takes over and writes under token 2.
    const took = new Promise((r) => b.lease.once('acquired', r));
    const beforeStop = (await reader.xrevrange(keys.changes, '+', '-', 'COUNT', 1))[0]![0];
    await a.stop();
    await took;
    const after = statusesOf(await readUntil(beforeStop, (s) => statusesOf(s).some((e) => e.src === 'hub-b')));
    const fromB = after.filter((e) => e.src === 'hub-b');
    expect(fromB.every((e) => e.fence === 2)).toBe(true);
    expect(after.slice(after.indexOf(fromB[0]!)).every((e) => e.src === 'hub-b')).toBe(true);
    expect(b.report()).toMatchObject({ leaseHolder: 'hub-b', holding: true, token: 2 });
  });

  it('a write refused by the fencing token stands the hub down: refresher stopped, counted, and it competes again', async () => {
    // A lease long enough that no renewal comes before the next publish (20 a second): the publisher finds out.
    const a = hub('hub-a', 6000);
    a.start();
    await new Promise((r) => a.lease.once('acquired', r));
    await readUntil('0-0', (s) => statusesOf(s).length > 0);
    const lost = new Promise<{ reason: string }>((r) => a.lease.once('lost', r));
    // Another holder's acquisition moved the token on (as after a long pause of this one).
    await reader.incr(keys.leaseToken);
    sim.setCode(SAMPLE.RISKLESS, { status: 'RISKY', expirationDate: NO_LIMIT_EXPIRY, note: 'turned RISKY during the test' });
    expect((await lost).reason).toBe('fenced');
    expect(a.report()).toMatchObject({ holding: false, fenced: 1, callsPerSecond: null, rotationProgress: null });
    // Its lease lapses in Redis; it takes it again under a new token and publishes under that one.
    const again = await new Promise<number>((r) => a.lease.once('acquired', ({ token }) => r(token)));
    expect(again).toBe(3);
    const seen = statusesOf(await readUntil('0-0', (s) => statusesOf(s).some((e) => e.fence === 3), 15_000));
    expect(seen.filter((e) => e.fence === 2)).toEqual([]);
  });

  it('re-derives its budget when the number of bound codes changes, at the end of a rotation', async () => {
    // A 1 s RISKLESS freshness: a rotation must fit in 0.8 s, one call per 500 codes.
    const a = hub('hub-a', 1500, { min: 0.5, max: 50, risklessTtlMs: 1000 });
    a.start();
    await new Promise((r) => a.lease.once('acquired', r));
    const budget = async (want: number): Promise<void> => {
      const end = Date.now() + 10_000;
      while (a.report().callsPerSecond !== want) {
        if (Date.now() > end) throw new Error(`budget ${a.report().callsPerSecond}, expected ${want}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await budget(1 / 0.8);
    store.putBindings(Array.from({ length: 600 }, (_, i) => ({ cardId: cardIdFor(100 + i), hesCode: `Q${String(i).padStart(9, '0')}`, profile: 'standard' })));
    await budget(2 / 0.8);
    expect(a.report()).toMatchObject({ holding: true, callsLastRotation: expect.any(Number) });
  });

  it('its registry writes bindings to the city while the lease is elsewhere', async () => {
    const h = hub('hub-c');
    h.start();
    await new Promise((r) => h.lease.once('acquired', r));
    expect(await h.registry.put({ cardId: 'AA00BB11', hesCode: 'A1B2C3D4E5', profile: 'standard' })).toBe('created');
    const seen = await readUntil('0-0', (s) => s.some(({ e }) => e?.type === 'bindings'));
    // Signed by hub-c, and with the code's status asked in the same write (the simulator does not know it).
    expect(seen.find(({ e }) => e?.type === 'bindings')!.e).toMatchObject({
      type: 'bindings', src: 'hub-c', proof: { src: 'hub-c' },
      changes: { put: [{ cardId: 'AA00BB11', hesCode: 'A1B2C3D4E5', profile: 'standard' }], del: [], statuses: { answers: [['A1B2C3D4E5', { kind: 'not-found' }]] } },
    });
    expect(await reader.get(keys.epoch)).not.toBeNull();
  });
});
