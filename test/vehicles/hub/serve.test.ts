/**
 * A hub publishing the vehicle list as operators run it: a real redis-server, `hes-gate serve`
 * with city.role hub and vehicles.enabled (from the current sources), the `hes-gate vehicle`
 * commands against its data directory, cards bound through its admin API (their statuses from the
 * embedded simulator), and the list fetched over HTTP with a vehicle's token, opened with the
 * codec and checked card by card.
 */
import type { ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityKey } from '../../../src/city/city-key.js';
import { SAMPLE } from '../../../src/simulator/index.js';
import { ListKey, lookup, openFile, openHead } from '../../../src/vehicles/list/index.js';
import { runCli, serveUntilReady, startCli, stop } from '../../cli/cli.js';
import { nodeKeyFile } from '../../city/e2e/node-keys.js';
import { hasRedis, RedisServer } from '../../city/redis-harness.js';
import { until } from './fixture.js';

const ADMIN = 'vehicle-serve-admin-token-0123456789';
const cards: Array<[string, string, string]> = [
  ['04A1000000000001', SAMPLE.RISKLESS, 'pass'],
  ['04A1000000000002', SAMPLE.RISKY, 'risky'],
  // The ministry answers this code `expired` when it is bound: a finding the hub's store keeps
  // (its findings table), so the list says `expired`, as every station would deny it.
  ['04A1000000000003', SAMPLE.RISKLESS_PAST_EXPIRY, 'expired'],
];

describe.skipIf(!hasRedis)('a hub publishing the vehicle list (hes-gate serve)', () => {
  let dir: string;
  let redis: RedisServer;
  let child: ChildProcess;
  let url: string;
  let token: string;
  const dataDir = (): string => join(dir, 'hub-1');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hes-gate-vserve-'));
    const keyFile = join(dir, 'city.key');
    writeFileSync(keyFile, `${CityKey.generateLine('e2e')}\n`, { mode: 0o600 });
    const keygen = await runCli(['vehicle', 'keygen', '--list-key', join(dir, 'list.key'), '--signing-key', join(dir, 'list-signing.pem'), '--kid', 'vl-e2e']);
    expect(keygen.code, keygen.stderr).toBe(0);
    expect(statSync(join(dir, 'list.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'list-signing.pem')).mode & 0o777).toBe(0o600);
    redis = await RedisServer.start();
    const config = {
      environment: 'simulator',
      server: { host: '127.0.0.1', port: 0 },
      dataDir: dataDir(),
      stationId: 'hub-1',
      log: { level: 'info' },
      city: { role: 'hub', redisUrl: redis.url, keyFile, nodeKeyFile: await nodeKeyFile(dir, 'hub-1', 'hub', redis.url), leaseMs: 10_000, heartbeatMs: 500 },
      vehicles: { enabled: true, listKeyFile: join(dir, 'list.key'), signingKeyFile: join(dir, 'list-signing.pem'), publishEveryMs: 1000, snapshotEveryMs: 3_600_000 },
      gates: { list: [{ id: 'G1' }] },
    };
    writeFileSync(join(dir, 'hub.json'), JSON.stringify(config));
    child = startCli(['serve'], { env: { HES_GATE_CONFIG: join(dir, 'hub.json'), HES_GATE_ADMIN_TOKEN: ADMIN } });
    url = await serveUntilReady(child);
    const added = await runCli(['vehicle', 'add', 'bus-34', '--data-dir', dataDir()]);
    expect(added.code, added.stderr).toBe(0);
    token = added.stdout.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const [cardId, hesCode] of cards) {
      const r = await fetch(`${url}/v1/cards/${cardId}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode }) });
      expect(r.status).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    if (child !== undefined) await stop(child);
    await redis?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a signed list holding each bound card\'s verdict class, to a registered vehicle only', async () => {
    const publicKey = createPublicKey(readFileSync(join(dir, 'list-signing.pem'), 'utf8'));
    const listKey = ListKey.parse(readFileSync(join(dir, 'list.key'), 'utf8'));
    const auth = { authorization: `Bearer ${token}` };
    let last = '';
    // The registry is re-read within a second of `vehicle add`; the first versions follow the lease.
    const found = await until(() => `a list holding the three cards with their statuses (last seen: ${last})`, async () => {
      const res = await fetch(`${url}/v1/vehicle-list/head`, { headers: auth });
      if (res.status !== 200) {
        last = `head ${res.status} ${await res.text()}`;
        return undefined;
      }
      const head = openHead(await res.text(), publicKey, 'vl-e2e');
      const file = await fetch(`${url}/v1/vehicle-list/files/${head.snapshot.name}`, { headers: auth });
      let f = openFile(new Uint8Array(await file.arrayBuffer()), publicKey, 'vl-e2e');
      if (f.kind !== 'snapshot') return undefined;
      let state = f.state;
      for (const d of head.deltas) {
        const { advance } = await import('../../../src/vehicles/list/index.js');
        f = openFile(new Uint8Array(await (await fetch(`${url}/v1/vehicle-list/files/${d.name}`, { headers: auth })).arrayBuffer()), publicKey, 'vl-e2e');
        if (f.kind !== 'delta') return undefined;
        state = advance(state, d.base!, f);
      }
      const classes = cards.map(([cardId]) => lookup(state, listKey.fingerprint(cardId, state.bits))?.cls);
      last = `version ${head.version}: ${classes.join()}`;
      return classes.join() === cards.map((c) => c[2]).join() ? head : undefined;
    });
    expect(found.keyId).toBe('vl-e2e');
    expect((await fetch(`${url}/v1/vehicle-list/head`)).status).toBe(401);
    // The head is not in the publish directory (a static server serves that), nor are card ids or codes in its files.
    const published = readdirSync(join(dataDir(), 'vehicle-lists'));
    expect(published.every((n) => /^[0-9a-f]{64}\.hgvl$/.test(n))).toBe(true);
    // Readable by a static server's user, whatever the service's umask.
    expect(statSync(join(dataDir(), 'vehicle-lists')).mode & 0o777).toBe(0o755);
    for (const n of published) expect(statSync(join(dataDir(), 'vehicle-lists', n)).mode & 0o777).toBe(0o644);
    for (const n of published) {
      const text = readFileSync(join(dataDir(), 'vehicle-lists', n)).toString('latin1');
      for (const [cardId, code] of cards) {
        expect(text.includes(cardId)).toBe(false);
        expect(text.includes(code)).toBe(false);
      }
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^hes_gate_vehicles_list_versions_total\{kind="snapshot"\} [1-9]/m);
    expect(metrics).toMatch(/^hes_gate_vehicles_publishing 1$/m);
    expect(metrics).toMatch(/^hes_gate_vehicles_list_entries 3$/m);

    const revoked = await runCli(['vehicle', 'revoke', 'bus-34', '--data-dir', dataDir()]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await until('the running hub refuses the revoked vehicle', async () => ((await fetch(`${url}/v1/vehicle-list/head`, { headers: auth })).status === 403 ? true : undefined), 10_000);
  }, 120_000);
});
