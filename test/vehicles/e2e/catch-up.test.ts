/**
 * Issue 23 end to end, on one injected clock: a hub's real publisher (its builder worker and its
 * store) writes list files into a directory a real nginx serves; the hub's real vehicle routes
 * answer the head over HTTP; two vehicles (the real list fetcher and list worker) reach both through
 * link proxies that cut, throttle and truncate. Steps of the publisher and polls of the vehicles
 * are taken by the test, so a day offline is 288 steps of a clock, not a day.
 *
 *   hub store ─ publisher (worker) ─> publishDir ─ nginx ─ files proxy ─┐
 *   hub routes (fastify, a real port) ─────────────────── head proxy ───┴─ vehicle A, vehicle B
 *
 * What is checked: every card decided as the hub's record says; a cut download resumed by Range;
 * a vehicle cut off keeps deciding, then catches up by deltas (after a day too) or, past the
 * newest snapshot, by the snapshot; tampered, wrongly signed and replayed lists refused and
 * counted; a revoked vehicle refused and its list aged into the outage policy; and no card id or
 * HES code in any list file, head, or vehicle disk.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseEvents } from '../../../src/city/types.js';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { createLogger } from '../../../src/ops/logger.js';
import type { StatusOutcome, Timers } from '../../../src/types.js';
import { startVehiclePublishing, type VehiclePublishing } from '../../../src/vehicles/hub/index.js';
import { openHead, type ListHead } from '../../../src/vehicles/list/index.js';
import type { RefusalReason } from '../../../src/vehicles/list/types.js';
import { CardList } from '../../../src/vehicles/vehicle/card-list.js';
import { hubAgent } from '../../../src/vehicles/vehicle/hub-http.js';
import { ListFetcher } from '../../../src/vehicles/vehicle/list-fetcher.js';
import { ListWorkerClient } from '../../../src/vehicles/vehicle/list-worker-client.js';
import { SignedClock } from '../../../src/vehicles/vehicle/signed-clock.js';
import { runCli } from '../../cli/cli.js';
import { cardIdFor, codeFor, manualClock } from '../../cards/helpers.js';
import { bind, hubDir, NO_MQTT, type HubDir, vehicleRoutesApp } from '../hub/fixture.js';
import { LinkProxy, SEGMENT } from '../link-proxy.js';
import { hasNginx, Nginx } from '../nginx.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.parse('2026-12-08T05:00:00Z');
const CARDS = 100_000;
const MAX_LIST_AGE = 6 * HOUR;
const never: Timers = { setTimeout: () => 0, clearTimeout: () => undefined };

/** What the hub's record says of card i at `now`, as the vehicle should decide it. */
type Expect = 'RISKLESS' | 'RISKY' | 'expired' | 'unavailable' | 'unbound';

function summary(r: ReturnType<CardList['lookup']>): Expect | 'no list' | 'stale' {
  if (r === 'no list') return 'no list';
  if (r === undefined) return 'unbound';
  const o: StatusOutcome = r.outcome;
  if (o.kind === 'status') return o.record.status;
  if (o.kind === 'expired') return 'expired';
  if (o.kind === 'unavailable') return 'lastKnown' in o && o.lastKnown !== undefined ? 'stale' : 'unavailable';
  throw new Error(`unexpected outcome ${o.kind}`);
}

interface Vehicle {
  id: string;
  dir: string;
  token: string;
  files: LinkProxy;
  head: LinkProxy;
  list: CardList;
  fetcher: ListFetcher;
  worker: ListWorkerClient;
  refused(reason: RefusalReason): number;
}

describe.skipIf(!hasNginx)('vehicles end to end: a hub publishing to nginx, two vehicles through cut, throttled and truncated links', () => {
  const clock = manualClock(T0);
  // The lease is led by the test (lead below), so the publisher's first step is the test's own.
  const lease = Object.assign(new EventEmitter<LeaseEvents>(), { holding: false, token: null as number | null });
  /** The hub's record as the test changed it: card index → what a vehicle should say while its list is fresh. */
  const record = new Map<number, Expect>();
  let h: HubDir;
  let store: StationStore;
  let vp: VehiclePublishing;
  let app: FastifyInstance;
  let hubUrl: string;
  let nginx: Nginx;
  let agent: Agent;
  let a: Vehicle;
  let b: Vehicle;
  const vehicles: Vehicle[] = [];
  const servers: Server[] = [];
  let changeSeq = 0;

  async function addVehicle(id: string): Promise<string> {
    const file = join(h.dataDir, `${id}.token`);
    const r = await runCli(['vehicle', 'add', id, '--token-file', file, '--data-dir', h.dataDir]);
    expect(r.code, r.stderr).toBe(0);
    return readFileSync(file, 'utf8').trim();
  }

  async function startVehicle(id: string, token: string, o: { dir?: string; headUrl?: string; publicKey?: string; files?: LinkProxy; head?: LinkProxy } = {}): Promise<Vehicle> {
    const dir = o.dir ?? mkdtempSync(join(tmpdir(), `hg-e2e-${id}-`));
    const files = o.files ?? (await LinkProxy.start({ target: { port: nginx.port } }));
    const head = o.head ?? (await LinkProxy.start({ target: { port: Number(new URL(hubUrl).port) } }));
    const signed = new SignedClock(clock.now);
    const list = new CardList({ fingerprint: (cardId, bits) => h.listKey.fingerprint(cardId, bits), clock: signed.now, maxListAgeMs: MAX_LIST_AGE });
    const jwk = h.publicKey.export({ format: 'jwk' });
    const worker = new ListWorkerClient({ dir, publicKey: o.publicKey ?? Buffer.from(jwk.x!, 'base64url').toString('base64'), keyId: h.listKey.keyId });
    const fetcher = new ListFetcher({
      headUrl: o.headUrl ?? `${head.url}/v1/vehicle-list/head`,
      filesUrl: `${files.url}/`,
      token: () => token,
      dir,
      worker,
      list,
      clock: signed,
      pollMs: 60_000,
      dispatcher: agent,
      timers: never,
    });
    await fetcher.start();
    const v: Vehicle = { id, dir, token, files, head, list, fetcher, worker, refused: (r) => fetcher.report().refused.get(r) ?? 0 };
    vehicles.push(v);
    return v;
  }

  async function stopVehicle(v: Vehicle): Promise<void> {
    await v.fetcher.stop();
    await v.worker.close();
    vehicles.splice(vehicles.indexOf(v), 1);
  }

  /** Change `n` cards' statuses in the hub's record (RISKLESS ↔ RISKY), as the refresher would. */
  async function change(n: number): Promise<void> {
    const items = [];
    while (items.length < n) {
      const i = (changeSeq++ * 7919) % CARDS;
      if (record.get(i) === 'unavailable' || record.get(i) === 'expired') continue;
      const next = record.get(i) === 'RISKY' ? 'RISKLESS' : 'RISKY';
      record.set(i, next);
      items.push({ code: codeFor(i), record: { status: next, expiresAt: T0 + 30 * 24 * HOUR, fetchedAt: clock.now() } } as const);
    }
    store.saveStatuses(items);
    await store.flush();
  }

  /**
   * The hub's refresher re-asks every bound code in a rotation; a RISKLESS nobody re-confirmed for
   * a day is listed `unknown`. On this clock the test re-confirms them itself, every 12 hours.
   */
  let confirmedAt = T0 - HOUR;
  async function confirmAll(): Promise<void> {
    const items = [];
    for (const [i, e] of record) {
      if (e === 'unavailable') continue;
      items.push({ code: codeFor(i), record: { status: e === 'RISKY' ? 'RISKY' : 'RISKLESS', expiresAt: e === 'expired' ? T0 - HOUR : T0 + 30 * 24 * HOUR, fetchedAt: clock.now() } } as const);
    }
    for (let k = 0; k < items.length; k += 10_000) store.saveStatuses(items.slice(k, k + 10_000));
    await store.flush();
    confirmedAt = clock.now();
  }

  async function step(): Promise<ListHead> {
    if (clock.now() - confirmedAt >= 12 * HOUR) await confirmAll();
    expect(await vp.publisher.step()).toBe('published');
    return currentHead();
  }

  function currentHead(): ListHead {
    return openHead(vp.publisher.headText()!, h.publicKey, h.listKey.keyId);
  }

  const version = (v: Vehicle): number | null => v.fetcher.report().version;

  /** Every card as the vehicle decides it, against the hub's record; [] when all agree. */
  function disagreements(v: Vehicle): string[] {
    const out: string[] = [];
    for (let i = 0; i < CARDS; i++) {
      const got = summary(v.list.lookup(cardIdFor(i)));
      if (got !== record.get(i)) out.push(`card ${i}: vehicle ${got}, record ${record.get(i)}`);
    }
    return out.slice(0, 10);
  }

  /** nginx's requests since `mark` (an index into its log). */
  const since = (mark: number): ReturnType<Nginx['requests']> => nginx.requests().slice(mark);

  beforeAll(async () => {
    h = hubDir(mkdtempSync(join(tmpdir(), 'hg-e2e-hub-')));
    for (let i = 0; i < CARDS; i++) {
      // A city's mix: mostly RISKLESS, some RISKY, some expired codes, some with no status yet.
      const kind: Expect = i % 10 === 3 ? 'RISKY' : i % 10 === 7 ? 'expired' : i % 50 === 11 ? 'unavailable' : 'RISKLESS';
      record.set(i, kind);
      const status = kind === 'unavailable' ? null : { status: kind === 'RISKY' ? 'RISKY' : 'RISKLESS', expiresAt: kind === 'expired' ? T0 - HOUR : T0 + 30 * 24 * HOUR } as const;
      bind(h.store, cardIdFor(i), codeFor(i), i % 4 === 0 ? 'senior' : 'standard', status, T0 - HOUR);
    }
    h.store.close();
    store = await openStationStore({ dataDir: h.dataDir });
    const tokenA = await addVehicle('bus-34a');
    const tokenB = await addVehicle('ferry-2');
    vp = await startVehiclePublishing({
      config: {
        dataDir: h.dataDir,
        // Snapshots every 36 h, two kept: a vehicle catches up by deltas until its version falls out of the kept chains.
        vehicles: { enabled: true, listKeyFile: h.listKeyFile, signingKeyFile: h.signingKeyFile, publishDir: null, publishEveryMs: 5 * MINUTE, snapshotEveryMs: 36 * HOUR, keepSnapshots: 2, horizonMs: 48 * HOUR, maxListAgeMs: MAX_LIST_AGE, mqtt: NO_MQTT },
      },
      store,
      lease,
      journal: null,
      logger: createLogger('silent'),
      clock: clock.now,
      timers: never,
    });
    await vp.publisher.lead(1);
    app = await vehicleRoutesApp(store, vp.routes, clock.now);
    hubUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    nginx = await Nginx.start({ root: vp.routes.publishDir });
    agent = hubAgent({ connectTimeoutMs: 2000, headersTimeoutMs: 5000, bodyTimeoutMs: 5000 });
    a = await startVehicle('bus-34a', tokenA);
    b = await startVehicle('ferry-2', tokenB);
  }, 180_000);

  afterAll(async () => {
    for (const v of [...vehicles]) await stopVehicle(v);
    for (const v of [a, b]) {
      await v?.files.close();
      await v?.head.close();
      if (v !== undefined) rmSync(v.dir, { recursive: true, force: true });
    }
    for (const s of servers) s.close();
    await agent?.close();
    await app?.close();
    await vp?.close();
    await nginx?.stop();
    await store?.close();
    rmSync(h.dataDir, { recursive: true, force: true });
  }, 60_000);

  it('both vehicles take the first list through nginx and decide every card as the hub\'s record says', async () => {
    for (const v of [a, b]) expect(summary(v.list.lookup(cardIdFor(0)))).toBe('no list');
    const head = await step();
    await Promise.all([a.fetcher.poll(), b.fetcher.poll()]);
    for (const v of [a, b]) {
      expect(version(v)).toBe(head.version);
      expect(disagreements(v)).toEqual([]);
      expect(summary(v.list.lookup('04FFFFFFFFFFFF'))).toBe('unbound');
    }
    // The files came from nginx, and the token went only to the hub: never to the static server.
    const got = nginx.requests();
    expect(got.filter((r) => r.uri === `/${head.snapshot.name}` && r.status === 200)).toHaveLength(2);
    expect(got.every((r) => !r.authorized)).toBe(true);
  }, 120_000);

  it('a download cut mid-file over a throttled link resumes with Range at the next poll', async () => {
    await change(600);
    clock.advance(5 * MINUTE);
    const head = await step();
    const delta = head.deltas.at(-1)!;
    expect(delta.bytes).toBeGreaterThan(1500);
    // A slow link (64 kbit/s, one segment at a time): the bytes before the cut reach the vehicle
    // well before the cut does, as on a real link, so it has a part to resume from.
    a.files.throttle(64_000, SEGMENT);
    // Status line and headers (≈ 250 bytes from nginx) plus half the file.
    a.files.truncateNext(300 + Math.floor(delta.bytes / 2), { request: /\.hgvl / });
    const mark = nginx.requests().length;
    await a.fetcher.poll();
    expect(a.files.truncations).toBe(1);
    expect(version(a)).toBe(head.version - 1);
    await a.fetcher.poll();
    expect(version(a)).toBe(head.version);
    // nginx logs the cut request when it notices the cut, which may be after the resumed one.
    const ofDelta = (rs: ReturnType<Nginx['requests']>): ReturnType<Nginx['requests']> => rs.slice(mark).filter((r) => r.uri === `/${delta.name}`);
    await nginx.until('both requests for the delta', (rs) => ofDelta(rs).length === 2);
    const asked = ofDelta(nginx.requests()).sort((x, y) => x.status - y.status);
    expect(asked.map((r) => r.status)).toEqual([200, 206]);
    expect(Number(/^bytes=(\d+)-$/.exec(asked[1]!.range)?.[1])).toBeGreaterThan(0);
    expect(a.refused('tampered')).toBe(0);
    expect(disagreements(a)).toEqual([]);
    a.files.throttle(null);
    await b.fetcher.poll();
  }, 120_000);

  it('a vehicle cut off keeps deciding from its list; back, it catches up by deltas', async () => {
    b.files.linkDown();
    b.head.linkDown();
    const held = version(b);
    for (let s = 0; s < 3; s++) {
      await change(20);
      clock.advance(5 * MINUTE);
      await step();
    }
    await b.fetcher.poll();
    expect(b.fetcher.report().link).toBe('unreachable');
    expect(version(b)).toBe(held);
    expect(b.head.refused).toBeGreaterThan(0);
    // Its list is 15 minutes old: still fresh, it still decides (from what it holds).
    expect(summary(b.list.lookup(cardIdFor(1)))).toMatch(/^(RISKLESS|RISKY)$/);
    b.files.linkUp();
    b.head.linkUp();
    const mark = nginx.requests().length;
    await b.fetcher.poll();
    const head = currentHead();
    expect(version(b)).toBe(head.version);
    expect(since(mark).map((r) => r.uri)).toEqual(head.deltas.slice(-3).map((d) => `/${d.name}`));
    expect(disagreements(b)).toEqual([]);
    await a.fetcher.poll();
  }, 120_000);

  it('a day offline (a version an hour on the injected clock) is caught up by deltas, not the snapshot', async () => {
    b.files.linkDown();
    b.head.linkDown();
    for (let s = 0; s < 24; s++) {
      await change(20);
      clock.advance(HOUR);
      await step();
    }
    b.files.linkUp();
    b.head.linkUp();
    const head = currentHead();
    const mark = nginx.requests().length;
    const before = b.files.bytes.down;
    await b.fetcher.poll();
    expect(version(b)).toBe(head.version);
    const fetched = since(mark);
    const deltas = head.deltas.slice(-24);
    // The deltas weigh less than the snapshot (what makes the vehicle choose them).
    expect(deltas.reduce((n, d) => n + d.bytes, 0)).toBeLessThan(head.snapshot.bytes);
    expect(fetched.map((r) => r.uri)).toEqual(deltas.map((d) => `/${d.name}`));
    expect(fetched.some((r) => r.uri === `/${head.snapshot.name}`)).toBe(false);
    // Bytes on the wire: the deltas' own bytes plus nginx's headers, far below the snapshot.
    const payload = deltas.reduce((n, d) => n + d.bytes, 0);
    const wire = b.files.bytes.down - before;
    expect(wire).toBeGreaterThanOrEqual(payload);
    expect(wire - payload).toBeLessThan(24 * 400);
    expect(disagreements(b)).toEqual([]);
    await a.fetcher.poll();
    expect(version(a)).toBe(head.version);
  }, 120_000);

  it('a vehicle offline across a snapshot step follows the deltas through it; one offline past the kept snapshots takes the newest snapshot', async () => {
    a.files.linkDown();
    a.head.linkDown();
    // 12 hours later a snapshot is due (36 h after the first one, at T0 + 24 h 20 min + 12 h):
    // the step makes a snapshot and a delta, and the chain of deltas runs on through it.
    await change(5);
    clock.advance(12 * HOUR);
    const across = await step();
    expect(across.snapshot.version).toBe(across.version);
    a.files.linkUp();
    a.head.linkUp();
    let mark = nginx.requests().length;
    await a.fetcher.poll();
    expect(version(a)).toBe(across.version);
    expect(since(mark).map((r) => r.uri)).toEqual([`/${across.deltas.at(-1)!.name}`]);
    expect(disagreements(a)).toEqual([]);

    // Offline across two more snapshots (keepSnapshots 2): the delta from its version is gone.
    a.files.linkDown();
    a.head.linkDown();
    for (let s = 0; s < 2; s++) {
      await change(5);
      clock.advance(36 * HOUR);
      await step();
    }
    const head = currentHead();
    expect(head.deltas.some((d) => d.base === across.version)).toBe(false);
    a.files.linkUp();
    a.head.linkUp();
    mark = nginx.requests().length;
    await a.fetcher.poll();
    expect(version(a)).toBe(head.version);
    expect(since(mark).map((r) => r.uri)).toEqual([`/${head.snapshot.name}`]);
    expect(disagreements(a)).toEqual([]);
    await b.fetcher.poll();
  }, 120_000);

  it('a tampered file is refused and counted, and taken once the server serves it whole again', async () => {
    await change(10);
    clock.advance(5 * MINUTE);
    const head = await step();
    const delta = head.deltas.at(-1)!;
    const path = join(vp.routes.publishDir, delta.name);
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[Math.floor(bad.length / 2)]! ^= 0x01;
    writeFileSync(path, bad);
    const held = version(a);
    const before = a.refused('tampered');
    await a.fetcher.poll();
    expect(a.refused('tampered')).toBe(before + 1);
    expect(version(a)).toBe(held);
    writeFileSync(path, good);
    await a.fetcher.poll();
    expect(version(a)).toBe(head.version);
    expect(disagreements(a)).toEqual([]);
  }, 120_000);

  it('a head and files signed with a key the vehicle does not trust are refused and counted', async () => {
    const other = (await import('node:crypto')).generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const stranger = await startVehicle('bus-34a', a.token, { publicKey: Buffer.from(other.x!, 'base64url').toString('base64'), files: a.files, head: a.head });
    try {
      await stranger.fetcher.poll();
      expect(stranger.refused('signature')).toBeGreaterThan(0);
      expect(version(stranger)).toBeNull();
      expect(summary(stranger.list.lookup(cardIdFor(0)))).toBe('no list');
    } finally {
      await stopVehicle(stranger);
      rmSync(stranger.dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('an old head played back to a vehicle is refused as a replay, and the vehicle keeps its newer list', async () => {
    const old = vp.publisher.headText()!;
    await change(10);
    clock.advance(5 * MINUTE);
    const head = await step();
    await a.fetcher.poll();
    expect(version(a)).toBe(head.version);
    // A server that plays the old signed head back, as a stale cache or an attacker could.
    const replay = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(old));
    servers.push(replay);
    await new Promise<void>((r) => replay.listen(0, '127.0.0.1', r));
    const replayUrl = `http://127.0.0.1:${(replay.address() as { port: number }).port}/v1/vehicle-list/head`;
    await stopVehicle(a);
    // The same vehicle restarted on its own disk, asking the replaying server.
    const replayed = await startVehicle('bus-34a', a.token, { dir: a.dir, headUrl: replayUrl, files: a.files, head: a.head });
    expect(version(replayed)).toBe(head.version);
    await replayed.fetcher.poll();
    expect(replayed.refused('replayed')).toBe(1);
    expect(version(replayed)).toBe(head.version);
    expect(disagreements(replayed)).toEqual([]);
    await stopVehicle(replayed);
    a = await startVehicle('bus-34a', a.token, { dir: a.dir, files: a.files, head: a.head });
    expect(version(a)).toBe(head.version);
  }, 120_000);

  it('a revoked vehicle is refused, gets no new version, and its list ages into the outage policy', async () => {
    const r = await runCli(['vehicle', 'revoke', 'ferry-2', '--data-dir', h.dataDir]);
    expect(r.code, r.stderr).toBe(0);
    // The running hub re-reads its registry on its timer (never, on this test's timers): read it now.
    await vp.registry.refresh();
    const res = await fetch(`${hubUrl}/v1/vehicle-list/head`, { headers: { authorization: `Bearer ${b.token}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HG_VEHICLE_REVOKED');
    const held = version(b);
    await change(10);
    clock.advance(5 * MINUTE);
    const head = await step();
    await b.fetcher.poll();
    expect(b.fetcher.report().link).toBe('revoked');
    expect(version(b)).toBe(held);
    expect(held).toBeLessThan(head.version);
    // The other vehicle is not affected.
    await a.fetcher.poll();
    expect(version(a)).toBe(head.version);
    // Six hours on, the revoked vehicle's list is stale: its verdicts go to the outage policy.
    clock.advance(MAX_LIST_AGE + MINUTE);
    const riskless = [...record].find(([, e]) => e === 'RISKLESS')![0];
    expect(summary(b.list.lookup(cardIdFor(riskless)))).toBe('stale');
    expect(summary(b.list.lookup(cardIdFor(7)))).toBe('unavailable');
  }, 120_000);

  it('no card id or HES code is in any list file, head, or vehicle disk', () => {
    const texts: Array<{ where: string; text: string }> = [{ where: 'head', text: vp.publisher.headText()!.toLowerCase() }];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else texts.push({ where: p, text: readFileSync(p).toString('latin1').toLowerCase() });
      }
    };
    for (const dir of [vp.routes.publishDir, a.dir, b.dir]) walk(dir);
    expect(texts.length).toBeGreaterThan(10);
    const found: string[] = [];
    for (let i = 0; i < CARDS; i += 97) {
      for (const secret of [cardIdFor(i), codeFor(i)]) {
        const forms = [secret.toLowerCase(), Buffer.from(secret).toString('hex'), Buffer.from(secret).toString('base64').slice(0, 12).toLowerCase()];
        for (const t of texts) for (const f of forms) if (t.text.includes(f)) found.push(`${t.where}: ${f}`);
      }
    }
    expect(found).toEqual([]);
  });
});
