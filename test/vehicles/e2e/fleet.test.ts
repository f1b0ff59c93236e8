/**
 * Issue 23 end to end as operators run it: a real redis-server, a hub as `hes-gate serve`
 * (city.role hub, vehicles.enabled) publishing into a directory a real nginx serves, and two
 * vehicles as `hes-gate serve` (city.role vehicle) reaching the hub and nginx through link proxies
 * that throttle, truncate and cut. Cards are bound through the hub's admin API (statuses from
 * the embedded simulator); taps are sent to each vehicle's decision API and compared with the
 * hub's own decision for the same card. A vehicle is revoked with `hes-gate vehicle revoke`.
 * What the vehicles uploaded, what they keep on disk and the list files hold no card id or code.
 */
import type { ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityKey } from '../../../src/city/city-key.js';
import { SAMPLE } from '../../../src/simulator/index.js';
import { openHead } from '../../../src/vehicles/list/index.js';
import { runCli, serveUntilReady, startCli, stop } from '../../cli/cli.js';
import { nodeKeyFile } from '../../city/e2e/node-keys.js';
import { hasRedis, RedisServer } from '../../city/redis-harness.js';
import { LinkProxy } from '../link-proxy.js';
import { hasNginx, Nginx } from '../nginx.js';
import { until } from '../hub/fixture.js';

const ADMIN = 'vehicle-fleet-admin-token-0123456789';
const CARDS = 200;
const card = (i: number): string => `04F1${i.toString(16).toUpperCase().padStart(10, '0')}`;
/** Most cards RISKLESS, every fifth RISKY: classes a vehicle decides alone, as the hub does. */
const codeOf = (i: number): string => (i % 5 === 2 ? SAMPLE.RISKY : SAMPLE.RISKLESS);

async function metric(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? null : Number(m[1]);
}

interface Node {
  child: ChildProcess;
  url: string;
  dataDir: string;
  /** Every JSON log line it printed. */
  logs: Array<Record<string, unknown>>;
}

interface Vehicle extends Node {
  id: string;
  token: string;
  files: LinkProxy;
  head: LinkProxy;
}

describe.skipIf(!hasRedis || !hasNginx)('a hub and two vehicles as hes-gate processes, nginx and cut, throttled, truncated links', () => {
  let dir: string;
  let redis: RedisServer;
  let hub: Node;
  let nginx: Nginx;
  let publicKey: string;
  let a: Vehicle;
  let b: Vehicle;

  const publishDir = (): string => join(hub.dataDir, 'vehicle-lists');

  function logsOf(child: ChildProcess): Array<Record<string, unknown>> {
    const logs: Array<Record<string, unknown>> = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    });
    return logs;
  }

  async function serve(name: string, config: Record<string, unknown>, env: Record<string, string> = {}): Promise<Node> {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config));
    const child = startCli(['serve'], { env: { HES_GATE_CONFIG: file, HES_GATE_ADMIN_TOKEN: ADMIN, ...env } });
    const logs = logsOf(child);
    return { child, url: await serveUntilReady(child), dataDir: String(config['dataDir']), logs };
  }

  async function startVehicle(id: string): Promise<Vehicle> {
    const added = await runCli(['vehicle', 'add', id, '--data-dir', hub.dataDir]);
    expect(added.code, added.stderr).toBe(0);
    const token = added.stdout.trim();
    const tokenFile = join(dir, `${id}.token`);
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const listKey = join(dir, `${id}.list.key`);
    copyFileSync(join(dir, 'list.key'), listKey);
    const files = await LinkProxy.start({ target: { port: nginx.port } });
    const head = await LinkProxy.start({ target: { port: Number(new URL(hub.url).port) } });
    const node = await serve(id, {
      environment: 'simulator',
      server: { host: '127.0.0.1', port: 0 },
      dataDir: join(dir, id),
      stationId: id,
      log: { level: 'info' },
      city: { role: 'vehicle' },
      vehicle: {
        headUrl: `${head.url}/v1/vehicle-list/head`,
        filesUrl: `${files.url}/`,
        uploadUrl: `${head.url}/v1/vehicles/reports`,
        listKeyFile: listKey,
        publicKey,
        pollMs: 1000,
        uploadEveryMs: 1000,
      },
      gates: { defaults: { ministryUnavailable: 'deny' }, list: [{ id: 'G1' }] },
    }, { HES_GATE_VEHICLE_TOKEN_FILE: tokenFile });
    return { ...node, id, token, files, head };
  }

  const tap = async (url: string, cardId: string): Promise<{ verdict: string; reason: string; source: string }> => {
    const res = await fetch(`${url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gate: 'G1', card: cardId }) });
    return (await res.json()) as { verdict: string; reason: string; source: string };
  };

  const bindCard = async (cardId: string, hesCode: string): Promise<void> => {
    const r = await fetch(`${hub.url}/v1/cards/${cardId}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode }) });
    expect([200, 201]).toContain(r.status);
    await r.arrayBuffer();
  };

  const hubVersion = async (): Promise<number> => (await metric(hub.url, 'hes_gate_vehicles_list_version')) ?? 0;

  /** Resolve once the hub has published a version above `after`. */
  const published = (after: number): Promise<number> => until(`the hub publishes a version above ${after}`, async () => {
    const v = await hubVersion();
    return v > after ? v : undefined;
  });

  /** Resolve once the vehicle holds the hub's newest version. */
  const caughtUp = async (v: Vehicle): Promise<number> => {
    const want = await until('the hub publishes', async () => (await metric(hub.url, 'hes_gate_vehicles_list_version')) ?? undefined);
    return until(() => `${v.id} holds version ${want} (its last vehicle log lines: ${JSON.stringify(v.logs.filter((l) => String(l['event'] ?? '').startsWith('vehicle.')).slice(-3))})`, async () => ((await metric(v.url, 'hes_gate_vehicle_list_version')) === want ? want : undefined));
  };

  /** Every card as the vehicle decides it against the hub's own decision; [] when they agree. */
  const disagreements = async (v: Vehicle, ids: readonly string[]): Promise<string[]> => {
    const out: string[] = [];
    for (const id of ids) {
      const [atHub, onBoard] = await Promise.all([tap(hub.url, id), tap(v.url, id)]);
      if (atHub.verdict !== onBoard.verdict || atHub.reason !== onBoard.reason || onBoard.source !== 'list') out.push(`${id}: hub ${atHub.verdict}/${atHub.reason}, ${v.id} ${onBoard.verdict}/${onBoard.reason}/${onBoard.source}`);
    }
    return out;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hes-gate-fleet-'));
    const keyFile = join(dir, 'city.key');
    writeFileSync(keyFile, `${CityKey.generateLine('e2e')}\n`, { mode: 0o600 });
    const keygen = await runCli(['vehicle', 'keygen', '--list-key', join(dir, 'list.key'), '--signing-key', join(dir, 'list-signing.pem'), '--kid', 'vl-fleet']);
    expect(keygen.code, keygen.stderr).toBe(0);
    const jwk = createPublicKey(readFileSync(join(dir, 'list-signing.pem'), 'utf8')).export({ format: 'jwk' });
    publicKey = Buffer.from(jwk.x!, 'base64url').toString('base64');
    redis = await RedisServer.start();
    hub = await serve('hub-1', {
      environment: 'simulator',
      server: { host: '127.0.0.1', port: 0 },
      dataDir: join(dir, 'hub-1'),
      stationId: 'hub-1',
      log: { level: 'info' },
      city: { role: 'hub', redisUrl: redis.url, keyFile, nodeKeyFile: await nodeKeyFile(dir, 'hub-1', 'hub', redis.url), leaseMs: 10_000, heartbeatMs: 500 },
      vehicles: { enabled: true, listKeyFile: join(dir, 'list.key'), signingKeyFile: join(dir, 'list-signing.pem'), publishEveryMs: 1000, snapshotEveryMs: 3_600_000 },
      gates: { list: [{ id: 'G1' }] },
    });
    // The hub's first version is taken before any card is bound: a city's first list is small,
    // and its first snapshot stays the newest for an hour (snapshotEveryMs) while deltas add the
    // cards: a vehicle must follow its deltas even when that snapshot weighs less than they do.
    await published(0);
    for (let i = 0; i < CARDS; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => bindCard(card(i + k), codeOf(i + k))));
    nginx = await Nginx.start({ root: publishDir() });
    await until('the hub lists every bound card', async () => ((await metric(hub.url, 'hes_gate_vehicles_list_entries')) === CARDS ? true : undefined));
  }, 180_000);

  afterAll(async () => {
    for (const v of [a, b]) {
      if (v === undefined) continue;
      await stop(v.child);
      await v.files.close();
      await v.head.close();
    }
    if (hub !== undefined) await stop(hub.child);
    await nginx?.stop();
    await redis?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two vehicles take the list from nginx over a throttled link cut mid-file, and decide every card as the hub does', async () => {
    a = await startVehicle('bus-1');
    // What bus-1 will fetch: the snapshot and the deltas after it. The largest of them is cut halfway.
    // The head as the hub serves it now (503 while its lease is being renewed or taken again).
    const headText = await until('the hub serves its head', async () => {
      const res = await fetch(`${hub.url}/v1/vehicle-list/head`, { headers: { authorization: `Bearer ${a!.token}` } });
      const text = await res.text();
      return res.status === 200 ? text : undefined;
    });
    const head = openHead(headText, createPublicKey(readFileSync(join(dir, 'list-signing.pem'), 'utf8')), 'vl-fleet');
    const largest = [head.snapshot, ...head.deltas.filter((d) => d.version > head.snapshot.version)].sort((x, y) => y.bytes - x.bytes)[0]!;
    expect(largest.bytes).toBeGreaterThan(300);
    // bus-1's link: 16 kbit/s in 64-byte slices; the cut falls past nginx's headers (≈ 260 bytes)
    // halfway into the file, whose first bytes arrive a slice or more before the cut does.
    a.files.throttle(16_000, 64);
    a.files.truncateNext(260 + Math.floor(largest.bytes / 2), { request: new RegExp(`^GET /${largest.name} `) });
    b = await startVehicle('ferry-2');
    await Promise.all([caughtUp(a), caughtUp(b)]);
    expect(a.files.truncations).toBe(1);
    await nginx.until('the cut file resumed with Range', (rs) => rs.some((r) => r.uri === `/${largest.name}` && r.status === 206 && /^bytes=[1-9]\d*-$/.test(r.range)));
    // The token went to the hub only, never to the static server.
    expect(nginx.requests().every((r) => !r.authorized)).toBe(true);
    const ids = Array.from({ length: CARDS }, (_, i) => card(i));
    expect(await disagreements(a, ids)).toEqual([]);
    expect(await disagreements(b, ids)).toEqual([]);
    expect((await tap(a.url, '04FFFFFFFFFFFF')).reason).toBe('CARD_UNBOUND');
    a.files.throttle(null);
  }, 120_000);

  it('a vehicle cut off keeps deciding from the list it holds, and catches up when the link returns', async () => {
    b.files.linkDown();
    b.head.linkDown();
    const before = await metric(b.url, 'hes_gate_vehicle_list_version');
    // A card turns RISKY at the hub (bound again to a RISKY code).
    const turned = card(0);
    const was = await hubVersion();
    await bindCard(turned, SAMPLE.RISKY);
    await published(was);
    await caughtUp(a);
    expect((await tap(a.url, turned)).verdict).toBe('deny');
    // The ferry still holds its list and decides from it: the old verdict, within its deadline.
    expect(await metric(b.url, 'hes_gate_vehicle_list_version')).toBe(before);
    expect(await tap(b.url, turned)).toMatchObject({ verdict: 'pass', source: 'list' });
    await until('the ferry tried its link while it was down', async () => (b.head.refused > 0 ? true : undefined));
    b.files.linkUp();
    b.head.linkUp();
    await caughtUp(b);
    expect(await tap(b.url, turned)).toMatchObject({ verdict: 'deny', reason: 'RISKY', source: 'list' });
  }, 120_000);

  it('a revoked vehicle is refused at the hub and gets no new version; the other goes on', async () => {
    const revoked = await runCli(['vehicle', 'revoke', 'ferry-2', '--data-dir', hub.dataDir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await until('the hub refuses the ferry', async () => {
      const res = await fetch(`${hub.url}/v1/vehicle-list/head`, { headers: { authorization: `Bearer ${b.token}` } });
      await res.arrayBuffer();
      return res.status === 403 ? true : undefined;
    });
    await until('the ferry learns it is revoked', async () => (b.logs.some((l) => l['event'] === 'vehicle.link' && l['state'] === 'revoked') ? true : undefined));
    const held = await metric(b.url, 'hes_gate_vehicle_list_version');
    const was = await hubVersion();
    await bindCard(card(1), SAMPLE.RISKY);
    await published(was);
    const newest = await caughtUp(a);
    expect(newest).toBeGreaterThan(held!);
    // Polls go on (every second) and are refused: the version stays.
    const polls = b.head.requests;
    await until('the ferry polls again', async () => (b.head.requests > polls + 1 ? true : undefined));
    expect(await metric(b.url, 'hes_gate_vehicle_list_version')).toBe(held);
  }, 120_000);

  it('uploads reach the hub\'s journal as <vehicle>/<gate>; no card id or HES code in them, on the vehicles\' disks or in the list files', async () => {
    await until('bus-1\'s taps uploaded to the hub', async () => {
      const res = await fetch(`${hub.url}/v1/journal?gate=${encodeURIComponent('bus-1/G1')}&limit=10`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const body = (await res.json()) as { records?: unknown[]; entries?: unknown[] };
      return (body.records ?? body.entries ?? []).length > 0 ? true : undefined;
    });
    const uploaded = await (await fetch(`${hub.url}/v1/journal?gate=${encodeURIComponent('bus-1/G1')}&limit=1000`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    const texts: Array<{ where: string; text: string }> = [{ where: 'uploads at the hub', text: uploaded }];
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else texts.push({ where: p, text: readFileSync(p).toString('latin1') });
      }
    };
    for (const d of [a.dataDir, b.dataDir, publishDir()]) walk(d);
    const secrets = [...Array.from({ length: CARDS }, (_, i) => card(i)), SAMPLE.RISKLESS, SAMPLE.RISKY];
    const found: string[] = [];
    for (const s of secrets) {
      const forms = [s, s.toLowerCase(), Buffer.from(s).toString('hex'), Buffer.from(s).toString('base64').slice(0, 12)];
      for (const t of texts) for (const f of forms) if (t.text.includes(f)) found.push(`${t.where}: ${f.slice(0, 4)}…`);
    }
    expect(found).toEqual([]);
    expect(uploaded).toContain('bus-1/G1');
  }, 120_000);
});
