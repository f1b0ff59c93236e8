import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { hasRedis, RedisServer } from './redis-harness.js';

describe.skipIf(!hasRedis)('the Redis test harness', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('keeps data across a kill and restart (append-only, fsync always)', async () => {
    const a = new Redis(server.port, '127.0.0.1');
    await a.set('k', 'v');
    a.disconnect();
    await server.restart();
    const b = new Redis(server.port, '127.0.0.1');
    expect(await b.get('k')).toBe('v');
    b.disconnect();
  });
});
