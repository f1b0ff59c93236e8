/**
 * A command's connection to its city: the key file and Redis of the configured node, refused
 * with the start checks' coded error when this node is not in a city. Shared by `city *`,
 * `city node *` and `cards import` on a hub.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { cityProblems } from '../config/start-checks.js';
import { CityKey } from '../city/city-key.js';
import { cityUnavailable } from '../city/hub/redis-error.js';
import { HesGateError } from '../errors.js';

/** The city key and a connected Redis for a command; HG_CONFIG_INVALID / HG_CITY_KEY / HG_CITY_UNAVAILABLE otherwise. */
export async function openCity(config: Config, name: string): Promise<{ key: CityKey; redis: Redis }> {
  const problems = cityProblems(config);
  if (config.city.role === 'standalone' || config.city.role === 'vehicle') {
    throw new HesGateError('HG_CONFIG_INVALID', `city.role is ${config.city.role} (HES_GATE_CITY_ROLE): this node is not in a city's Redis${config.city.role === 'vehicle' ? ' (a vehicle fetches its list from a hub)' : ''}`);
  }
  if (problems.length > 0) throw problems[0]!;
  const key = await CityKey.load(config.city.keyFile!);
  // Loaded on use: the other commands need not load the Redis client.
  const { connectRedis } = await import('../city/connect.js');
  const redis = connectRedis(config.city, { connectionName: `hes-gate-cli:${name}` });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw cityUnavailable('a connection', err);
  }
  return { key, redis };
}
