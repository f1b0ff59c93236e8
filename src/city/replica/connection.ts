/**
 * The replica's two Redis connections and how their failures read to an operator.
 *
 * Connections come from the city's ConnectFn (connect.ts): lazy, failing fast while Redis is
 * away, reconnecting by themselves. A blocking read has no command timeout (it waits for up to
 * its block time), so a Redis frozen by SIGSTOP — the socket open, nothing answering — would
 * hold it forever: `guardedRead` gives up after the block time plus a grace and drops the
 * connection, which then reconnects.
 */
import type { Redis } from 'ioredis';
import { HesGateError } from '../../errors.js';
import type { ConnectFn } from '../types.js';

export function openConnection(connect: ConnectFn, name: string, blocking: boolean): Redis {
  const redis = connect(name, blocking);
  // Failures reach the caller of each command; without a listener ioredis would print them.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Connect a lazy (or closed) connection. One whose first connection is under way (another caller
 * started it) is waited for too: with the offline queue off, a command sent before it is ready
 * fails at once. One that is reconnecting is left to itself (commands fail fast meanwhile).
 */
export async function ensureConnecting(redis: Redis): Promise<void> {
  if (redis.status === 'wait' || redis.status === 'end') {
    await redis.connect();
    return;
  }
  if (redis.status !== 'connecting' && redis.status !== 'connect') return;
  await new Promise<void>((resolve, reject) => {
    const off = (): void => {
      redis.off('ready', ok);
      redis.off('error', fail);
      redis.off('close', fail);
    };
    const ok = (): void => {
      off();
      resolve();
    };
    const fail = (err?: unknown): void => {
      off();
      reject(err instanceof Error ? err : new Error('the connection closed before it was ready'));
    };
    redis.once('ready', ok);
    redis.once('error', fail);
    redis.once('close', fail);
  });
}

export class NotAnsweringError extends Error {
  constructor(ms: number) {
    super(`redis did not answer a blocking read within ${ms} ms`);
  }
}

/** Run a blocking command; when nothing comes back within `ms`, reconnect and reject. */
export async function guardedRead<T>(redis: Redis, read: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new NotAnsweringError(ms));
      redis.disconnect(true);
    }, ms);
  });
  read.catch(() => undefined);
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short, code-free reason for the report and the log (`degraded` because of what). */
export function reasonOf(err: unknown): string {
  if (err instanceof HesGateError) return `local store failed (${err.code})`;
  if (err instanceof NotAnsweringError) return 'redis not answering';
  const message = err instanceof Error ? err.message : '';
  if (/timed out/i.test(message)) return 'redis not answering';
  const refused = /^(NOAUTH|WRONGPASS|NOPERM|READONLY|LOADING|MASTERDOWN)\b/.exec(message);
  if (refused !== null) return `redis refused (${refused[1]})`;
  return 'redis unreachable';
}
