/**
 * Connections to the city's Redis (ioredis: Sentinel failover built in; see docs/city.md).
 *
 * Nothing on the tap path ever awaits these connections. They fail fast instead of queueing
 * while Redis is away (`enableOfflineQueue: false`, one attempt per command), and reconnect by
 * themselves with a capped back-off; callers retry whole steps (apply a batch, renew the lease).
 * With Sentinels, a connection asks them for the current primary on every (re)connect and
 * follows a failover without a restart (`failoverDetector`).
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/schema.js';

export type CityConfig = Config['city'];

export interface ConnectOptions {
  /** A name shown by CLIENT LIST (role and node id, never a secret). */
  connectionName: string;
  /**
   * Blocking reads (XREAD BLOCK) need their own connection; its commands may wait up to the
   * block time, so no command timeout is set on it.
   */
  blocking?: boolean;
}

/** ioredis options from the city settings; the password is revealed here only, into the client. */
export function redisOptions(city: CityConfig, options: ConnectOptions): RedisOptions {
  const base: RedisOptions = {
    connectionName: options.connectionName,
    connectTimeout: city.connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Reconnect forever: 100 ms doubling to 2 s. A station outlives any Redis outage.
    retryStrategy: (attempt) => Math.min(2000, 100 * 2 ** Math.min(attempt, 5)),
    lazyConnect: true,
    ...(options.blocking === true ? {} : { commandTimeout: Math.max(1000, city.connectTimeoutMs) }),
    ...(city.redisUser === null ? {} : { username: city.redisUser }),
    ...(city.redisPassword === null ? {} : { password: city.redisPassword.reveal() }),
  };
  const url = city.redisUrl === null ? null : new URL(city.redisUrl);
  const tls = url?.protocol === 'rediss:' ? { ...(city.tlsCaFile === null ? {} : { ca: readFileSync(city.tlsCaFile) }), servername: url.hostname } : undefined;
  if (city.sentinels.length > 0) {
    return {
      ...base,
      name: city.sentinelName,
      sentinels: city.sentinels.map((hp) => {
        const i = hp.lastIndexOf(':');
        return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
      }),
      sentinelRetryStrategy: (attempt) => Math.min(2000, 100 * 2 ** Math.min(attempt, 5)),
      failoverDetector: true,
      ...(tls === undefined ? {} : { tls, enableTLSForSentinelMode: true }),
    };
  }
  if (url === null) throw new TypeError('city.redisUrl or city.sentinels must be set');
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return { ...base, host: url.hostname, port: url.port === '' ? 6379 : Number(url.port), db, ...(tls === undefined ? {} : { tls }) };
}

/** A new connection, not yet connected (`lazyConnect`): call `connect()` and handle its failure. */
export function connectRedis(city: CityConfig, options: ConnectOptions): Redis {
  return new Redis(redisOptions(city, options));
}
