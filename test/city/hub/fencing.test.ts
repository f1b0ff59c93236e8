/**
 * Fencing with a real holder process: it is frozen (SIGSTOP) while it holds the lease, a standby
 * takes over, and when it wakes its next write is refused by the fencing token. Real
 * redis-server; the holder runs from the sources (test/cli/ts-hooks.mjs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { CityKey } from '../../../src/city/city-key.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { Lease } from '../../../src/city/hub/lease.js';
import { LeaderPublisher } from '../../../src/city/hub/publisher.js';
import { StatusService } from '../../../src/status/status-service.js';
import { HOOKS } from '../../cli/cli.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { newNodeKey, testConnect, wireOf } from './city-redis.js';

const LEASE_MS = 1500;
const FIXTURE = resolve(import.meta.dirname, 'fixtures/holder.ts');

interface Said {
  event: string;
  fence: number;
  id?: string;
  code?: string;
  reason?: string;
}

/** The holder process; `next(event)` resolves with its next line of that event not yet taken. */
function startHolder(port: number, keyLine: string): { proc: ChildProcess; next(event: string): Promise<Said>; said: Said[] } {
  const proc = spawn(process.execPath, ['--import', HOOKS, FIXTURE], {
    env: { PATH: process.env.PATH, HG_TEST_REDIS_PORT: String(port), HG_TEST_CITY_KEY: keyLine, HG_TEST_NODE: 'hub-old', HG_TEST_LEASE_MS: String(LEASE_MS) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const said: Said[] = [];
  const taken = new Map<string, number>();
  const waiters: Array<{ event: string; resolve: (s: Said) => void }> = [];
  const take = (event: string): Said | undefined => {
    const n = taken.get(event) ?? 0;
    const hit = said.filter((s) => s.event === event)[n];
    if (hit !== undefined) taken.set(event, n + 1);
    return hit;
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    said.push(JSON.parse(line) as Said);
    for (const w of [...waiters]) {
      const hit = take(w.event);
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  });
  return {
    proc,
    said,
    next: (event) => {
      const hit = take(event);
      return hit !== undefined ? Promise.resolve(hit) : new Promise((r) => waiters.push({ event, resolve: r }));
    },
  };
}

describe.skipIf(!hasRedis)('fencing a frozen lease holder (real Redis, real process)', () => {
  let server: RedisServer;
  let connect: ReturnType<typeof testConnect>;
  let holder: ReturnType<typeof startHolder> | undefined;
  let standby: Lease | undefined;

  beforeEach(async () => {
    server = await RedisServer.start({ appendOnly: false });
    connect = testConnect(server.port);
  });
  afterEach(async () => {
    if (holder !== undefined && holder.proc.exitCode === null && holder.proc.signalCode === null) {
      holder.proc.kill('SIGCONT');
      holder.proc.kill('SIGKILL');
      await once(holder.proc, 'exit');
    }
    holder = undefined;
    await standby?.stop();
    connect.closeAll();
    await server.stop();
  });

  it('the woken holder\'s next write is refused (HG_CITY_FENCED): no entry of its token after the new holder\'s first', async () => {
    const keyLine = CityKey.generateLine('k1');
    const key = CityKey.parse(keyLine);
    const keys = cityKeyspace(key.kid);
    holder = startHolder(server.port, keyLine);
    const h = holder;
    expect((await h.next('acquired')).fence).toBe(1);
    h.proc.stdin!.write('publish\n');
    const before = await h.next('published');

    const redis = connect('hub-new', false);
    redis.on('error', () => undefined);
    await redis.connect();
    standby = new Lease({ redis, keys, nodeId: 'hub-new', leaseMs: LEASE_MS });
    const took = new Promise<number>((r) => standby!.once('acquired', ({ token }) => r(token)));
    standby.start();

    h.proc.kill('SIGSTOP');
    const token = await took;
    expect(token).toBe(2);
    const local = new StatusService({
      risklessTtlMs: 600_000, riskyTtlMs: 21_600_000, notFoundTtlMs: 60_000, expiredTtlMs: 3_600_000, lastKnownMaxAgeMs: 86_400_000, maxEntries: 100,
      ministry: () => Promise.reject(new Error('no lookups here')),
      clock: Date.now,
    });
    const pub = new LeaderPublisher({ redis, key, nodeId: 'hub-new', nodeKey: newNodeKey(), token, changesMaxLen: 1000, local });
    const firstOfNew = new Promise<string>((r) => pub.once('published', ({ id }) => r(id)));
    pub.publish({ at: Date.now(), answers: [['NEWHOLDER1', { kind: 'not-found' }]] });
    const newId = await firstOfNew;

    // The old holder wakes up and writes at once.
    h.proc.kill('SIGCONT');
    h.proc.stdin!.write('publish\n');
    // Whichever it says first: its write was refused, or (the bug) taken.
    const outcome = await Promise.race([h.next('fenced'), h.next('published')]);
    expect(outcome).toMatchObject({ event: 'fenced', code: 'HG_CITY_FENCED', fence: 1 });
    // Its own lease count also gave up (woken past its lease).
    expect(await h.next('lost')).toMatchObject({ fence: 1 });

    const wire = wireOf(key);
    const entries = (await redis.xrange(keys.changes, '-', '+')).map(([id, flat]) => ({ id, e: wire.changeEntry(flat) }));
    expect(entries.map(({ id }) => id)).toContain(before.id);
    const newIndex = entries.findIndex(({ id }) => id === newId);
    expect(newIndex).toBeGreaterThan(0);
    const lateOld = entries.slice(newIndex).filter(({ e }) => e?.type === 'statuses' && e.fence === 1);
    expect(lateOld).toEqual([]);
    expect(h.said.filter((s) => s.event === 'published')).toHaveLength(1);
    pub.close();
  });
});
