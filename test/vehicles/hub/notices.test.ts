/**
 * The hub's push notice against a real mosquitto: after a version is published, a retained QoS 1
 * notice `{"version","issuedAt"}` a later subscriber reads (with a broker user and password, never
 * logged); with the broker down, publication goes on unhindered and the newest notice is sent
 * when the broker is back. A real store, the real builder worker, the real publisher; steps are
 * taken by the test (the publisher's timers never fire).
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connectAsync, type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LeaseEvents } from '../../../src/city/types.js';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { Secret } from '../../../src/config/sensitive-value.js';
import type { Timers } from '../../../src/types.js';
import { startVehiclePublishing, type VehiclePublishing } from '../../../src/vehicles/hub/index.js';
import { openHead } from '../../../src/vehicles/list/index.js';
import { cardIdFor, codeFor } from '../../cards/helpers.js';
import { freePort } from '../../city/redis-harness.js';
import { hasMosquitto, Mosquitto } from '../mosquitto.js';
import { bind, hubDir, type HubDir } from './fixture.js';

const TOPIC = 'hes-gate/vehicle-list';
const PASSWORD = 'hub-notice-pass-7d1f';
const never: Timers = { setTimeout: () => undefined, clearTimeout: () => undefined };

/** The retained notice a new subscriber gets first, with its flags. */
async function retained(url: string, o: { username?: string; password?: string } = {}): Promise<{ payload: string; retain: boolean; qos: number }> {
  const c: MqttClient = await connectAsync(url, { reconnectPeriod: 0, ...o });
  try {
    const got = new Promise<{ payload: string; retain: boolean; qos: number }>((resolve) => c.once('message', (_t, p, packet) => resolve({ payload: p.toString(), retain: packet.retain, qos: packet.qos })));
    await c.subscribeAsync(TOPIC, { qos: 1 });
    return await got;
  } finally {
    await c.endAsync();
  }
}

describe.skipIf(!hasMosquitto)('the hub\'s push notice', () => {
  let h: HubDir;
  let store: StationStore;
  let vp: VehiclePublishing | null = null;
  let broker: Mosquitto | null = null;
  const lines: string[] = [];
  const lease = Object.assign(new EventEmitter<LeaseEvents>(), { holding: false, token: null as number | null });

  beforeEach(async () => {
    h = hubDir(mkdtempSync(join(tmpdir(), 'hg-vnotice-')));
    for (let i = 0; i < 20; i++) bind(h.store, cardIdFor(i), codeFor(i), 'standard', { status: 'RISKLESS', expiresAt: Date.now() + 3_600_000 });
    h.store.close();
    store = await openStationStore({ dataDir: h.dataDir });
    lines.length = 0;
  });

  afterEach(async () => {
    await vp?.close();
    vp = null;
    await store.close();
    await broker?.stop();
    broker = null;
    rmSync(h.dataDir, { recursive: true, force: true });
  });

  async function start(url: string, auth: { user: string | null; password: Secret | null }): Promise<VehiclePublishing> {
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
    vp = await startVehiclePublishing({
      config: { dataDir: h.dataDir, stationId: 'hub-a', vehicles: { enabled: true, listKeyFile: h.listKeyFile, signingKeyFile: h.signingKeyFile, publishDir: null, publishEveryMs: 300_000, snapshotEveryMs: 21_600_000, keepSnapshots: 2, horizonMs: 172_800_000, maxListAgeMs: 21_600_000, mqtt: { url, topic: TOPIC, ...auth } } },
      store,
      lease,
      journal: null,
      logger,
      clock: Date.now,
      timers: never,
      noticeReconnectMs: 100,
    });
    await vp.publisher.lead(1);
    return vp;
  }

  const events = (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('publishes a retained QoS 1 notice of the version published, with the broker user and password, never logged', async () => {
    broker = await Mosquitto.start({ users: { hub: PASSWORD, reader: 'reader-pass' } });
    const v = await start(broker.url, { user: 'hub', password: new Secret(PASSWORD) });
    await vi.waitFor(() => expect(v.report().notices?.connected).toBe(true), { timeout: 10_000, interval: 20 });
    expect(await v.publisher.step()).toBe('published');
    const head = openHead(v.publisher.headText()!, h.publicKey, h.listKey.keyId);
    await vi.waitFor(() => expect(v.report().notices?.outcomes.sent).toBe(1), { timeout: 10_000, interval: 20 });
    const got = await retained(broker.url, { username: 'reader', password: 'reader-pass' });
    expect(got.retain).toBe(true);
    expect(got.qos).toBe(1);
    // The version and its issue time, nothing else: no card id, no code, no file name.
    expect(JSON.parse(got.payload)).toEqual({ version: head.version, issuedAt: head.issuedAt });

    expect(v.report().notices).toMatchObject({ connected: true, outcomes: { sent: 1, failed: 0, deferred: 0 } });
    const text = lines.join('');
    expect(text).not.toContain(PASSWORD);
    expect(events().filter((e) => e['event'] === 'vehicles.notice.broker').map((e) => e['state'])).toEqual(['up']);
  });

  it('publishes with the broker down (the notice is deferred, nothing waits) and sends the newest notice once it is back', async () => {
    broker = await Mosquitto.start();
    const v = await start(broker.url, { user: null, password: null });
    await vi.waitFor(() => expect(v.report().notices?.connected).toBe(true), { timeout: 10_000, interval: 20 });
    await broker.kill();
    await vi.waitFor(() => expect(v.report().notices?.connected).toBe(false), { timeout: 10_000, interval: 20 });

    const t0 = performance.now();
    expect(await v.publisher.step()).toBe('published');
    const stepMs = performance.now() - t0;
    const head = openHead(v.publisher.headText()!, h.publicKey, h.listKey.keyId);
    expect(v.report().notices?.outcomes).toEqual({ sent: 0, failed: 0, deferred: 1 });
    expect(v.report().publisher.failures).toBe(0);
    // A build of 20 cards: the step took no connect timeout (10 s) or retry of the broker's.
    expect(stepMs).toBeLessThan(5000);
    expect(events().filter((e) => e['event'] === 'vehicles.notice.broker').map((e) => e['state'])).toEqual(['up', 'down']);

    await broker.spawn();
    await vi.waitFor(() => expect(v.report().notices?.outcomes.sent).toBe(1), { timeout: 10_000, interval: 20 });
    expect(JSON.parse((await retained(broker.url)).payload)).toEqual({ version: head.version, issuedAt: head.issuedAt });
  });

  it('with a wrong password the broker refuses the hub: said once, never with the password, and publication goes on', async () => {
    broker = await Mosquitto.start({ users: { hub: PASSWORD } });
    const wrong = 'not-the-hub-password-93';
    const v = await start(broker.url, { user: 'hub', password: new Secret(wrong) });
    await vi.waitFor(() => expect(events().some((e) => e['event'] === 'vehicles.notice.broker')).toBe(true), { timeout: 10_000, interval: 20 });
    expect(await v.publisher.step()).toBe('published');
    expect(v.report().notices).toMatchObject({ connected: false, outcomes: { sent: 0, deferred: 1 } });
    const said = events().filter((e) => e['event'] === 'vehicles.notice.broker');
    expect(said.map((e) => e['state'])).toEqual(['down']);
    expect(lines.join('')).not.toContain(wrong);
  });

  it('publishes with no broker at all behind the URL', async () => {
    const v = await start(`mqtt://127.0.0.1:${await freePort()}`, { user: null, password: null });
    expect(await v.publisher.step()).toBe('published');
    expect(v.report().notices).toMatchObject({ connected: false, outcomes: { sent: 0, failed: 0, deferred: 1 } });
    expect(v.report().publisher.versions.snapshot).toBe(1);
  });
});

describe('the mqtt package', () => {
  it('is loaded only by mqtt-link.ts, on first use (a dynamic import): a node without a broker never loads it', () => {
    const src = join(import.meta.dirname, '../../../src');
    const loads: string[] = [];
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(src, file), 'utf8');
      for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*from\s+'mqtt';|import\('mqtt'\)/gm)) if (m[2] === undefined) loads.push(`${file}: ${m[0].startsWith('import(') ? 'dynamic' : 'static'}`);
    }
    expect(loads).toEqual(['vehicles/mqtt-link.ts: dynamic']);
  });
});
