/**
 * The push notice end to end, every part real: a hub's publisher (its builder worker and store)
 * with vehicles.mqtt.url set, its vehicle routes on a real port, a real mosquitto, and a vehicle
 * (the list fetcher, the list worker, the notice listener) whose regular poll is an hour away.
 * A version published at the hub is held by the vehicle moments later, because of the notice; with
 * the broker gone, the hub still publishes, and the vehicle still has its regular poll.
 *
 *   hub store ─ publisher ─ version ─> head (routes) <──── GET head, files ──── vehicle
 *                         └ notice ──> mosquitto ──────── notice ─> poll now ──┘
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LeaseEvents } from '../../../src/city/types.js';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { createHttpApp } from '../../../src/http/app.js';
import { vehicleRoutes } from '../../../src/http/routes/vehicles.js';
import { createLogger } from '../../../src/ops/logger.js';
import type { Timers } from '../../../src/types.js';
import { startVehiclePublishing, type VehiclePublishing } from '../../../src/vehicles/hub/index.js';
import { CardList } from '../../../src/vehicles/vehicle/card-list.js';
import { hubAgent } from '../../../src/vehicles/vehicle/hub-http.js';
import { ListFetcher } from '../../../src/vehicles/vehicle/list-fetcher.js';
import { ListWorkerClient } from '../../../src/vehicles/vehicle/list-worker-client.js';
import { NoticeListener } from '../../../src/vehicles/vehicle/notice-listener.js';
import { SignedClock } from '../../../src/vehicles/vehicle/signed-clock.js';
import { runCli } from '../../cli/cli.js';
import { cardIdFor, codeFor } from '../../cards/helpers.js';
import { bind, hubDir, type HubDir } from '../hub/fixture.js';
import { hasMosquitto, Mosquitto } from '../mosquitto.js';

const HOUR = 3_600_000;
const CARDS = 2000;
const TOPIC = 'hes-gate/vehicle-list';
const never: Timers = { setTimeout: () => undefined, clearTimeout: () => undefined };

describe.skipIf(!hasMosquitto)('the push notice end to end: hub publisher, broker, vehicle', () => {
  const lease = Object.assign(new EventEmitter<LeaseEvents>(), { holding: false, token: null as number | null });
  let h: HubDir;
  let store: StationStore;
  let vp: VehiclePublishing;
  let app: FastifyInstance;
  let broker: Mosquitto;
  let agent: Agent;
  let dir: string;
  let worker: ListWorkerClient;
  let fetcher: ListFetcher;
  let listener: NoticeListener;
  let list: CardList;
  /** Told on every version the vehicle takes and every poll it ends. */
  const waiters: Array<() => void> = [];
  const tell = (): void => waiters.forEach((f) => f());
  let flip = 0;
  /** The notice listener's clock: the test moves it past the rate limit's gap. */
  let gateNow = 0;

  function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
      const test = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(test), 1);
        resolve();
      };
      waiters.push(test);
      test();
    });
  }

  /** A card's status changes in the hub's record, as the refresher would change it. */
  async function change(): Promise<void> {
    const i = flip++;
    store.saveStatuses([{ code: codeFor(i), record: { status: 'RISKY', expiresAt: Date.now() + HOUR, fetchedAt: Date.now() } }]);
    await store.flush();
  }

  beforeAll(async () => {
    h = hubDir(mkdtempSync(join(tmpdir(), 'hg-e2e-notice-')));
    for (let i = 0; i < CARDS; i++) bind(h.store, cardIdFor(i), codeFor(i), 'standard', { status: 'RISKLESS', expiresAt: Date.now() + HOUR });
    h.store.close();
    store = await openStationStore({ dataDir: h.dataDir });
    const tokenFile = join(h.dataDir, 'bus-34.token');
    const added = await runCli(['vehicle', 'add', 'bus-34', '--token-file', tokenFile, '--data-dir', h.dataDir]);
    expect(added.code, added.stderr).toBe(0);
    const token = readFileSync(tokenFile, 'utf8').trim();
    broker = await Mosquitto.start();
    vp = await startVehiclePublishing({
      config: { dataDir: h.dataDir, stationId: 'hub-a', vehicles: { enabled: true, listKeyFile: h.listKeyFile, signingKeyFile: h.signingKeyFile, publishDir: null, publishEveryMs: 300_000, snapshotEveryMs: 21_600_000, keepSnapshots: 2, horizonMs: 172_800_000, maxListAgeMs: 21_600_000, mqtt: { url: broker.url, topic: TOPIC, user: null, password: null } } },
      store,
      lease,
      journal: null,
      logger: createLogger('silent'),
      clock: Date.now,
      timers: never,
      noticeReconnectMs: 100,
    });
    await vp.publisher.lead(1);
    app = createHttpApp({ bodyLimitBytes: 8192, logger: createLogger('silent') });
    await app.register(vehicleRoutes, vp.routes);
    const hubUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    expect(await vp.publisher.step()).toBe('published');

    dir = mkdtempSync(join(tmpdir(), 'hg-e2e-notice-bus-'));
    agent = hubAgent();
    const signed = new SignedClock(Date.now);
    list = new CardList({ fingerprint: (id, bits) => h.listKey.fingerprint(id, bits), clock: signed.now, maxListAgeMs: 6 * HOUR });
    const jwk = h.publicKey.export({ format: 'jwk' });
    worker = new ListWorkerClient({ dir, publicKey: Buffer.from(jwk.x!, 'base64url').toString('base64'), keyId: h.listKey.keyId });
    const headUrl = `${hubUrl}/v1/vehicle-list/head`;
    // An hour between regular polls (the first one at start): only a notice brings a version sooner.
    fetcher = new ListFetcher({ headUrl, filesUrl: `${hubUrl}/v1/vehicle-list/files/`, token: () => token, dir, worker, list, clock: signed, pollMs: HOUR, dispatcher: agent, onVersion: tell, onPoll: tell });
    listener = await NoticeListener.open({ url: broker.url, topic: TOPIC, user: null, password: null, clientIdPrefix: 'hes-gate-vehicle-bus-34', logger: createLogger('silent'), held: () => list.held?.version ?? null, poll: () => fetcher.pollFresh(), minPollGapMs: 10_000, now: () => gateNow, reconnectPeriodMs: 100 });
    await fetcher.start();
  }, 60_000);

  afterAll(async () => {
    await listener?.close();
    await fetcher?.stop();
    await worker?.close();
    await agent?.close();
    await app?.close();
    await vp?.close();
    await store?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(h.dataDir, { recursive: true, force: true });
  }, 30_000);

  it('a version published at the hub is held by the vehicle moments later, though its regular poll is an hour away', async () => {
    const first = vp.report().publisher.version!;
    await until(() => list.held?.version === first, 'the first version, at start');
    await vi.waitFor(() => expect(vp.report().notices?.connected && listener.report().connected).toBe(true), { timeout: 10_000, interval: 10 });
    const times: number[] = [];
    for (let k = 0; k < 3; k++) {
      // Past the rate limit's gap (the retained notice of the first version, at subscribe, may
      // have made a poll already), so each notice makes its own poll.
      gateNow += 10_000;
      await change();
      const t0 = performance.now();
      expect(await vp.publisher.step()).toBe('published');
      const version = vp.report().publisher.version!;
      await until(() => list.held?.version === version, `version ${version} on the vehicle`);
      times.push(performance.now() - t0);
    }
    console.log(`publication step start to the vehicle holding the version: ${times.map((t) => t.toFixed(0)).join(', ')} ms (${CARDS} cards, delta builds)`);
    expect(Math.max(...times)).toBeLessThan(5000);
    expect(vp.report().notices?.outcomes).toMatchObject({ sent: 4, failed: 0 });
    expect(listener.report().taken.poll).toBeGreaterThanOrEqual(3);
    expect(listener.report().taken.coalesced).toBe(0);
    expect(fetcher.report().refused.get('signature')).toBe(0);
  });

  it('with the broker gone, the hub publishes as before and the vehicle keeps its version until a poll', async () => {
    await broker.kill();
    await vi.waitFor(() => expect(vp.report().notices?.connected).toBe(false), { timeout: 10_000, interval: 10 });
    const held = list.held!.version;
    await change();
    expect(await vp.publisher.step()).toBe('published');
    const version = vp.report().publisher.version!;
    expect(vp.report().notices?.outcomes.deferred).toBe(1);
    expect(list.held!.version).toBe(held);
    // The regular poll (here asked by hand) still brings it.
    await fetcher.poll();
    expect(list.held!.version).toBe(version);
  });
});
