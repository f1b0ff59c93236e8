/**
 * A snapshot under load (slow): the hashes are opened in short slices with turns of the event
 * loop between them, so the thread that answers taps is never held for long.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { binding, cityConfig, codeFor, HubSide, newKey, openStation, riskless, T0, type Station } from './helpers.js';

/**
 * Garbage collection and a loaded 2-core machine account for a few hundred ms (measured up to
 * ~350 ms here with the suite running). Opening the whole hash in one go takes seconds.
 */
const LOOP_DELAY_BOUND_MS = 1000;

describe.skipIf(!hasRedis)('a snapshot under load (slow)', { timeout: 60_000 }, () => {
  let server: RedisServer;
  let redis: Redis;
  let hub: HubSide;
  let station: Station;

  beforeEach(async () => {
    server = await RedisServer.start({ appendOnly: false });
    redis = new Redis(server.port, '127.0.0.1');
    const key = newKey();
    hub = new HubSide(redis, key);
    await hub.epoch();
    station = await openStation({ key, city: cityConfig({ redisUrl: server.url }) });
  });
  afterEach(async () => {
    await station.close();
    redis.disconnect();
    await server.stop();
  });

  it('a snapshot of 10,000 bindings and statuses never holds the main thread', async () => {
    const n = 10_000;
    for (let from = 0; from < n; from += 2000) {
      const p = redis.pipeline();
      for (let i = from; i < from + 2000; i++) {
        p.hset(hub.names.bindings, ...hub.wire.bindingField(binding(i)));
        p.hset(hub.names.statuses, ...hub.wire.statusField({ at: T0, code: codeFor(i), answer: riskless }));
      }
      await p.exec();
    }
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    station.replica.start();
    await station.replica.caughtUp();
    delay.disable();
    expect(station.replica.report()).toMatchObject({ snapshots: 1, malformed: 0 });
    expect(await station.store.countBindings()).toBe(n);
    expect(station.status.lastKnown(codeFor(n - 1), T0)?.status).toBe('RISKLESS');
    expect(delay.max / 1e6).toBeLessThan(LOOP_DELAY_BOUND_MS);
  });
});
