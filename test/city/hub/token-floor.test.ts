/**
 * The fencing token's floor survives a hub restart: a hub that held token 7 and restarts against
 * a Redis that lost its counter (a new, empty server) takes token 8, never 1 again. Real
 * redis-server, the floor in a real file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { Lease } from '../../../src/city/hub/lease.js';
import { FileTokenFloor } from '../../../src/city/hub/token-floor.js';
import { hasRedis, RedisServer } from '../redis-harness.js';

describe.skipIf(!hasRedis)('the fencing token floor (real Redis, a real file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-fence-'));
  const file = join(dir, 'city-fence');
  const ks = cityKeyspace('k1');
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await RedisServer.start({ appendOnly: false });
    redis = new Redis(server.port, '127.0.0.1');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const acquire = async (floor: FileTokenFloor): Promise<{ lease: Lease; token: number }> => {
    const lease = new Lease({ redis, keys: ks, nodeId: 'hub-a', leaseMs: 60_000, floor });
    const acquired = new Promise<{ token: number }>((resolve) => lease.once('acquired', resolve));
    lease.start();
    return { lease, token: (await acquired).token };
  };

  it('is on disk before the token is used, and a restarted hub takes the next token on an emptied Redis', async () => {
    await redis.set(ks.leaseToken, '6');
    const first = await acquire(new FileTokenFloor(file));
    expect(first.token).toBe(7);
    expect(readFileSync(file, 'utf8').trim()).toBe('7');
    await first.lease.stop();

    // Redis loses everything; the hub restarts (a new floor object reads the file).
    await redis.flushall();
    const again = await acquire(new FileTokenFloor(file));
    expect(again.token).toBe(8);
    expect(await redis.get(ks.leaseToken)).toBe('8');
    await again.lease.stop();
  });
});
