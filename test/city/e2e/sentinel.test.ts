/**
 * Primary failover under Sentinel, for a whole city: a hub and a station as `hes-gate serve`
 * processes that know only the Sentinel (`city.sentinels`). The primary is killed; both follow
 * the new primary without a restart: the hub takes bindings again, holds the refresher lease,
 * and the station receives what the hub writes there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CityKey } from '../../../src/city/city-key.js';
import { SAMPLE } from '../../../src/simulator/index.js';
import { nodeKeyFile } from './node-keys.js';
import { serveUntilReady, startCli, stop } from '../../cli/cli.js';
import { hasRedis, RedisSentinel, RedisServer } from '../redis-harness.js';

const ADMIN = 'city-sentinel-admin-token-0123456789';
const card = (i: number): string => `04D1${i.toString(16).toUpperCase().padStart(10, '0')}`;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const admin = (method: string, body?: unknown): RequestInit => ({
  method,
  headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

describe.skipIf(!hasRedis)('a city across a Sentinel failover (hub and station processes)', () => {
  let dir: string;
  let primary: RedisServer;
  let secondary: RedisServer;
  let sentinel: RedisSentinel;
  const nodes: Array<{ child: ChildProcess; url: string }> = [];

  const startNode = async (name: string, role: 'hub' | 'station'): Promise<{ child: ChildProcess; url: string }> => {
    const file = join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        environment: 'simulator',
        server: { host: '127.0.0.1', port: 0 },
        dataDir: join(dir, name),
        stationId: name,
        log: { level: 'info' },
        city: { role, sentinels: [`127.0.0.1:${sentinel.port}`], keyFile: join(dir, 'city.key'), nodeKeyFile: await nodeKeyFile(dir, name, role, primary.url), leaseMs: 2000, heartbeatMs: 500, connectTimeoutMs: 500 },
        gates: { list: [{ id: 'G1' }] },
      }),
    );
    const child = startCli(['serve'], { env: { HES_GATE_CONFIG: file, HES_GATE_ADMIN_TOKEN: ADMIN } });
    const node = { child, url: await serveUntilReady(child) };
    nodes.push(node);
    return node;
  };

  // Per attempt, not per file: the test kills the primary, so a retry needs a fresh city.
  beforeEach(async () => {
    nodes.length = 0;
    dir = mkdtempSync(join(tmpdir(), 'hes-gate-city-sentinel-'));
    writeFileSync(join(dir, 'city.key'), `${CityKey.generateLine('s1')}\n`, { mode: 0o600 });
    primary = await RedisServer.start();
    secondary = await RedisServer.start({ replicaOf: primary.port });
    sentinel = await RedisSentinel.start(primary.port);
  }, 60_000);

  afterEach(async () => {
    for (const n of nodes) await stop(n.child);
    await sentinel?.stop();
    await secondary?.stop();
    await primary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hub and station follow the new primary without a restart', async () => {
    const hub = await startNode('hub-1', 'hub');
    const station = await startNode('station-1', 'station');
    const bound = async (node: { url: string }, i: number): Promise<boolean> => (await fetch(`${node.url}/v1/cards/${card(i)}`, admin('GET'))).status === 200;
    expect((await fetch(`${hub.url}/v1/cards/${card(1)}`, admin('PUT', { hesCode: SAMPLE.RISKLESS }))).status).toBeLessThan(300);
    await until('the first binding reaches the station', () => bound(station, 1));
    // Everything written so far is on the replica before the primary goes.
    const p = new Redis(primary.port, '127.0.0.1');
    await p.wait(1, 5000);
    p.disconnect();

    const switched = sentinel.switched();
    await primary.kill();
    expect(await switched).toBe(secondary.port);
    // The hub answers 503 until it has asked the Sentinel and reconnected; a client retries.
    await until('the hub takes writes on the new primary', async () => (await fetch(`${hub.url}/v1/cards/${card(2)}`, admin('PUT', { hesCode: SAMPLE.RISKLESS }))).status < 300);
    await until('the station receives it from the new primary', () => bound(station, 2));
    // The lease (2 s) may have run out during the failover; the hub takes it again on the new
    // primary at its next heartbeat (500 ms), with a new fencing token.
    const next = new Redis(secondary.port, '127.0.0.1');
    try {
      await until('the hub holds the refresher lease on the new primary', async () => /^hub-1:\d+$/.test((await next.get('hg:lease')) ?? ''));
      expect(await next.get('hg:lease')).toMatch(/^hub-1:\d+$/);
    } finally {
      next.disconnect();
    }
    expect(await bound(station, 1)).toBe(true);
  }, 90_000);
});
