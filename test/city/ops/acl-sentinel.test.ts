/**
 * The shipped ACL file across a Sentinel failover, as docs/city.md deploys it: a primary and a
 * replica both load it (the replica syncs as `hes-gate-replication`), a Sentinel watches them as
 * `hes-gate-sentinel`; the primary is killed, the Sentinel promotes the replica, and a hub that
 * connected through the Sentinel writes to the new primary, where a station is still refused
 * the hub's writes. The replication and Sentinel users read no city data.
 * Real Redis and Sentinel (a few seconds: the Sentinel waits 1 s before it calls the primary down).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisOptions } from '../../../src/city/connect.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { freePort, hasRedis, RedisServer } from '../redis-harness.js';
import { aclWithPasswords, cityConfig } from './acl-file.js';

const pw = { hub: 'hub-pass-31', station: 'station-pass-32', replication: 'repl-pass-33', sentinel: 'sentinel-pass-34' };
const ks = cityKeyspace('k1');

/** Resolves with the first match of `re` in the process's output (its log goes to stdout). */
function output(proc: ChildProcess, re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (b: Buffer): void => {
      seen = (seen + b.toString()).slice(-16_384);
      const m = re.exec(seen);
      if (m !== null) done(undefined, m);
    };
    const timer = setTimeout(() => done(new Error(`no ${re} within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const done = (err?: Error, m?: RegExpExecArray): void => {
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      if (err === undefined) resolve(m!);
      else reject(err);
    };
    proc.stdout?.on('data', onData);
  });
}

/** Polls `probe` until it resolves truthy (Redis state has no event to wait on). */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return String((err as Error).message).split(' ')[0]!;
  }
}

describe.skipIf(!hasRedis)('Redis ACL with a replica and Sentinel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hes-gate-acl-sentinel-'));
  let primary: RedisServer;
  let replica: RedisServer;
  let sentinel: ChildProcess;
  let sentinelPort: number;
  const clients: Redis[] = [];

  beforeAll(async () => {
    const aclFile = join(dir, 'users.acl');
    writeFileSync(aclFile, aclWithPasswords(dir, { 'hes-gate-hub': pw.hub, 'hes-gate-node-station-s1': pw.station, 'hes-gate-replication': pw.replication, 'hes-gate-sentinel': pw.sentinel }, ['station-s1']));
    primary = await RedisServer.start({ aclFile, appendOnly: false });
    replica = await RedisServer.start({ aclFile, appendOnly: false, replicaOf: primary.port, args: ['--masteruser', 'hes-gate-replication', '--masterauth', pw.replication] });
    sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, 'protected-mode no',
        `sentinel monitor hes-gate 127.0.0.1 ${primary.port} 1`,
        'sentinel down-after-milliseconds hes-gate 1000',
        'sentinel failover-timeout hes-gate 5000',
        'sentinel auth-user hes-gate hes-gate-sentinel',
        `sentinel auth-pass hes-gate ${pw.sentinel}`,
        '',
      ].join('\n'),
    );
    sentinel = spawn('redis-sentinel', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The Sentinel logs in as its user, reads INFO and finds the replica.
    await output(sentinel, new RegExp(`\\+slave slave 127\\.0\\.0\\.1:${replica.port}`));
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    if (sentinel !== undefined && sentinel.exitCode === null) {
      const gone = new Promise((r) => sentinel.once('exit', r));
      sentinel.kill('SIGKILL');
      await gone;
    }
    await replica?.stop();
    await primary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function connect(role: 'hub' | 'station', where: { url?: string; sentinels?: string[] }): Redis {
    const c = new Redis(redisOptions(cityConfig(role, role === 'hub' ? pw.hub : pw.station, where), { connectionName: `${role}-1` }));
    c.on('error', () => undefined); // reconnects are expected across the failover
    clients.push(c);
    return c;
  }

  it('replicates as hes-gate-replication, and neither infrastructure user reads city data', async () => {
    const hub = connect('hub', { url: primary.url });
    await hub.connect();
    await hub.set(ks.epoch, 'e1');
    const onReplica = connect('station', { url: replica.url });
    await onReplica.connect();
    await until('the replica to have the epoch', async () => (await onReplica.get(ks.epoch)) === 'e1');
    for (const [user, password] of [['hes-gate-replication', pw.replication], ['hes-gate-sentinel', pw.sentinel]] as const) {
      const c = new Redis({ port: primary.port, host: '127.0.0.1', username: user, password, lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null });
      c.on('error', () => undefined);
      clients.push(c);
      await c.connect();
      expect(`${user}: ${await refused(c.get(ks.epoch))}`).toBe(`${user}: NOPERM`);
      expect(`${user}: ${await refused(c.hgetall(ks.bindings))}`).toBe(`${user}: NOPERM`);
    }
  });

  it('fails over under the ACL: the hub follows the Sentinel to the new primary, where stations are still refused', async () => {
    const hub = connect('hub', { sentinels: [`127.0.0.1:${sentinelPort}`] });
    await hub.connect();
    await hub.set(ks.lease, 'hub-1:1', 'PX', 60_000);
    const switched = output(sentinel, /\+switch-master hes-gate \S+ \d+ \S+ (\d+)/);
    await primary.kill();
    const newPort = Number((await switched)[1]);
    expect(newPort).toBe(replica.port);
    // The Sentinel could promote the replica (SLAVEOF NO ONE as hes-gate-sentinel); the hub writes there.
    await until('the hub to write to the new primary', async () => (await hub.set(ks.epoch, 'e2')) === 'OK');
    const station = connect('station', { sentinels: [`127.0.0.1:${sentinelPort}`] });
    await station.connect();
    expect(await station.get(ks.epoch)).toBe('e2');
    expect(await refused(station.set(ks.lease, 'station:9'))).toBe('NOPERM');
    expect(await refused(station.hset(ks.bindings, 'f', 'v'))).toBe('NOPERM');
  }, 40_000);
});
