import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { Lease } from '../../../src/city/hub/lease.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { testConnect } from './city-redis.js';

const LEASE_MS = 2000;
const keys = cityKeyspace('k1');

/** Poll a Redis-side or cross-process condition (no event exists for it) with a deadline. */
async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Real redis-server, three lease candidates on their own connections. */
describe.skipIf(!hasRedis)('the refresher lease (real Redis)', () => {
  let server: RedisServer;
  let connect: ReturnType<typeof testConnect>;
  let leases: Lease[] = [];
  let conns: Redis[] = [];
  const log: string[] = [];

  beforeEach(async () => {
    server = await RedisServer.start({ appendOnly: false });
    connect = testConnect(server.port);
    log.length = 0;
    conns = [0, 1, 2].map((i) => connect(`hub-${i}`, false));
    for (const c of conns) c.on('error', () => undefined);
    await Promise.all(conns.map((c) => c.connect()));
    leases = conns.map((redis, i) => {
      const l = new Lease({ redis, keys, nodeId: `hub-${i}`, leaseMs: LEASE_MS });
      l.on('acquired', ({ token }) => log.push(`hub-${i} acquired ${token}`));
      l.on('lost', ({ token, reason }) => log.push(`hub-${i} lost ${token} ${reason}`));
      return l;
    });
  });
  afterEach(async () => {
    await Promise.all(leases.map((l) => l.stop()));
    connect.closeAll();
    await server.stop();
  });

  const acquired = (l: Lease): Promise<number> => new Promise((r) => l.once('acquired', ({ token }) => r(token)));

  it('one holder among three hubs, renewing, while the others stand by', async () => {
    const first = Promise.race(leases.map(async (l, i) => ((await acquired(l)), i)));
    for (const l of leases) l.start();
    const winner = await first;
    // Every standby has asked Redis and learned who holds it.
    await until(() => leases.every((l) => l.holder === `hub-${winner}`), 'every hub names the holder');
    // Two renewals seen in Redis (the TTL went back up twice), and still one holder with the first token.
    let ups = 0;
    let last = Infinity;
    await until(async () => {
      const ttl = await conns[winner]!.pttl(keys.lease);
      if (ttl > last) ups++;
      last = ttl;
      return ups >= 2;
    }, 'two renewals');
    expect(leases.filter((l) => l.holding)).toHaveLength(1);
    expect(await conns[0]!.get(keys.leaseToken)).toBe('1');
    expect(await conns[0]!.get(keys.lease)).toBe(`hub-${winner}:1`);
    expect(log).toEqual([`hub-${winner} acquired 1`]);
  });

  it('a standby takes over within the lease time once the holder is cut off, and the old holder stops first', async () => {
    leases[0]!.start();
    await acquired(leases[0]!);
    leases[1]!.start();
    leases[2]!.start();
    await until(() => leases[1]!.holder === 'hub-0' && leases[2]!.holder === 'hub-0', 'standbys see the holder');
    const next = Promise.race([acquired(leases[1]!), acquired(leases[2]!)]);
    const cutAt = performance.now();
    // The holder's connection is gone for good (its process lost the network).
    conns[0]!.disconnect();
    const token = await next;
    const tookMs = performance.now() - cutAt;
    expect(token).toBe(2);
    // Its TTL ran at most LEASE_MS; polling blindly every LEASE_MS/3 could take up to 4/3 of it.
    expect(tookMs).toBeLessThanOrEqual(LEASE_MS + 500);
    // The old holder gave up (its own count, a safety margin before the TTL) before anyone took over.
    expect(log[0]).toBe('hub-0 acquired 1');
    expect(log[1]).toBe('hub-0 lost 1 unreachable');
    expect(log[2]).toMatch(/^hub-[12] acquired 2$/);
    expect(leases[0]!.valid()).toBe(false);
  });

  it('a holder whose Redis freezes stops acting a margin before its lease could lapse', async () => {
    leases[0]!.start();
    await acquired(leases[0]!);
    const lost = new Promise<{ reason: string }>((r) => leases[0]!.once('lost', r));
    // The earliest moment Redis could let the lease go, as this machine's clock sees it.
    const asked = performance.now();
    const ttl = await conns[1]!.pttl(keys.lease);
    server.pause();
    try {
      const { reason } = await lost;
      expect(['unreachable', 'expired']).toContain(reason);
      // It stopped acting before that, with room to spare (the margin is LEASE_MS / 5).
      expect(performance.now()).toBeLessThan(asked + ttl - 100);
      expect(leases[0]!.valid()).toBe(false);
    } finally {
      server.resume();
    }
  });

  it('a holder whose Redis freezes after it has renewed stops acting a margin before the renewed lease could lapse', async () => {
    leases[0]!.start();
    await acquired(leases[0]!);
    // Wait for a renewal: the TTL Redis reports goes back up.
    let last = await conns[1]!.pttl(keys.lease);
    await until(async () => {
      const ttl = await conns[1]!.pttl(keys.lease);
      const up = ttl > last;
      last = ttl;
      return up;
    }, 'a renewal');
    const lost = new Promise<{ reason: string }>((r) => leases[0]!.once('lost', r));
    const asked = performance.now();
    const ttl = await conns[1]!.pttl(keys.lease);
    // The next renewal is a third of the lease away: it finds Redis frozen.
    server.pause();
    try {
      const { reason } = await lost;
      expect(['unreachable', 'expired']).toContain(reason);
      // Counted from the renewal, it still keeps the margin (LEASE_MS / 5) before Redis could let the lease go.
      expect(performance.now()).toBeLessThan(asked + ttl - 100);
      expect(leases[0]!.valid()).toBe(false);
    } finally {
      server.resume();
    }
  });

  it('a holder whose fencing token moved on loses the lease at its next renewal, though the lease key still names it', async () => {
    leases[0]!.start();
    expect(await acquired(leases[0]!)).toBe(1);
    const lost = new Promise<{ token: number; reason: string }>((r) => leases[0]!.once('lost', r));
    // Another holder was granted token 2 (a failover that lost the lease key, say): token 1 must not act again.
    await conns[1]!.incr(keys.leaseToken);
    // Renewals go every LEASE_MS / 3: the next one must find out.
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still holding ${LEASE_MS} ms after its token moved on`)), LEASE_MS).unref());
    expect(await Promise.race([lost, timeout])).toEqual({ token: 1, reason: 'fenced' });
    expect(leases[0]!.valid()).toBe(false);
    expect(leases[0]!.holding).toBe(false);
  });

  it('stop() lets the lease go at once: a standby takes over without waiting for the TTL', async () => {
    leases[0]!.start();
    await acquired(leases[0]!);
    leases[1]!.start();
    await until(() => leases[1]!.holder === 'hub-0', 'the standby sees the holder');
    const next = acquired(leases[1]!);
    const stoppedAt = performance.now();
    await leases[0]!.stop();
    expect(await next).toBe(2);
    expect(performance.now() - stoppedAt).toBeLessThanOrEqual(LEASE_MS / 3 + 500);
    expect(log).toContain('hub-0 lost 1 released');
  });
});
