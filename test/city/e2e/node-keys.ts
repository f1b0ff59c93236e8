/**
 * A node's signing key for the end-to-end cities: written as `hes-gate city node keygen` writes
 * it (mode 0600), and a station's registered as `hes-gate city node add` does (a hub registers
 * its own when it starts).
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { addNode } from '../../../src/city/identity/node-registry.js';
import { NodeKey } from '../../../src/city/identity/node-key.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';

export async function nodeKeyFile(dir: string, name: string, role: 'hub' | 'station', redisUrl: string): Promise<string> {
  const file = join(dir, `${name}.node-key`);
  const publicKey = await NodeKey.create(file);
  if (role === 'station') {
    const redis = new Redis(redisUrl);
    try {
      // The registry's keys do not depend on the city key's id.
      await addNode(redis, cityKeyspace('k1'), name, 'station', publicKey, Date.now());
    } finally {
      redis.disconnect();
    }
  }
  return file;
}
