/**
 * Connections for the hub's tests: the production options (src/city/connect.ts) against a test
 * redis-server, plus a reader that dumps everything the city wrote.
 */
import { Redis } from 'ioredis';
import { redisOptions, type CityConfig } from '../../../src/city/connect.js';
import { CityKey } from '../../../src/city/city-key.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import type { ConnectFn } from '../../../src/city/types.js';
import { CityWire } from '../../../src/city/wire.js';
import { NodeKey } from '../../../src/city/identity/node-key.js';

/** A node signing key in memory (what `hes-gate city node keygen` writes to a file). */
export function newNodeKey(): NodeKey {
  return NodeKey.parse(NodeKey.generate().pem);
}

export function cityConfig(port: number, overrides: Partial<CityConfig> = {}): CityConfig {
  return {
    role: 'hub',
    redisUrl: `redis://127.0.0.1:${port}`,
    redisUser: null,
    redisPassword: null,
    sentinels: [],
    sentinelName: 'hes-gate',
    keyFile: null,
    nodeKeyFile: null,
    tlsCaFile: null,
    connectTimeoutMs: 1000,
    leaseMs: 3000,
    heartbeatMs: 1000,
    changesMaxLen: 100_000,
    lookupsMaxLen: 1000,
    maxCallsPerSecond: 10,
    ackReplicas: 0,
    ackTimeoutMs: 5000,
    reconcileMs: 300_000,
    ...overrides,
  };
}

/** A ConnectFn for a test Redis; every connection it made is closed by `closeAll`. */
export function testConnect(port: number): ConnectFn & { closeAll(): void; made: Redis[] } {
  const made: Redis[] = [];
  const fn = ((name: string, blocking: boolean) => {
    const r = new Redis(redisOptions(cityConfig(port), { connectionName: name, blocking }));
    made.push(r);
    return r;
  }) as ConnectFn & { closeAll(): void; made: Redis[] };
  fn.made = made;
  fn.closeAll = () => {
    for (const r of made) r.disconnect();
  };
  return fn;
}

export function newKey(kid = 'k1'): CityKey {
  return CityKey.parse(CityKey.generateLine(kid));
}

export function wireOf(key: CityKey): CityWire {
  return new CityWire(key, cityKeyspace(key.kid));
}

/** Every key and value in the Redis, as text (for the privacy checks). */
export async function dumpAll(redis: Redis): Promise<string> {
  const parts: string[] = [];
  for (const k of await redis.keys('*')) {
    parts.push(k);
    const type = await redis.type(k);
    if (type === 'string') parts.push(String(await redis.get(k)));
    else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(k)));
    else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(k, '-', '+')));
    else parts.push(`(${type})`);
  }
  return parts.join('\n');
}
