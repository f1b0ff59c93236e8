/**
 * The hub's vehicle routes on a real hub part by part: a store opened as the service opens it
 * (worker-backed), the `hes-gate vehicle` command run as a child process against its data
 * directory, the publisher's real builder, a real journal, and fastify's inject.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LeaseEvents } from '../../../src/city/types.js';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { Journal } from '../../../src/journal/journal.js';
import { createLogger } from '../../../src/ops/logger.js';
import { startVehiclePublishing, type VehiclePublishing } from '../../../src/vehicles/hub/index.js';
import { openHead } from '../../../src/vehicles/list/index.js';
import { runCli } from '../../cli/cli.js';
import { cardIdFor, codeFor } from '../../cards/helpers.js';
import { bind, hubDir, NO_MQTT, type HubDir, vehicleRoutesApp } from './fixture.js';

let h: HubDir;
let store: StationStore;
let app: FastifyInstance;
let vp: VehiclePublishing;
let journal: Journal;
let busToken: string;
let ferryToken: string;
const lease = Object.assign(new EventEmitter<LeaseEvents>(), { holding: false, token: null as number | null });

async function addVehicle(id: string): Promise<string> {
  const file = join(h.dataDir, `${id}.token`);
  const r = await runCli(['vehicle', 'add', id, '--token-file', file, '--data-dir', h.dataDir]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  return readFileSync(file, 'utf8').trim();
}

function entry(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { at: Date.parse('2026-12-08T07:00:00Z'), gate: 'front', reader: null, kind: 'card', verdict: 'pass', reason: 'RISKLESS', source: 'list', elapsedMs: 0.4, decisionId: '0b7e4c1a-0000-4000-8000-000000000001', ...over };
}

function upload(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { listVersion: 1_000_000_001, listIssuedAt: Date.parse('2026-12-08T06:00:00Z'), clockAt: Date.parse('2026-12-08T07:01:00Z'), entries: [entry()], counters: { taps: 3 }, ...over };
}

const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  // Kept for the whole file (the cards helpers' temp dirs go after each test).
  h = hubDir(mkdtempSync(join(tmpdir(), 'hg-vroutes-')));
  for (let i = 0; i < 30; i++) bind(h.store, cardIdFor(i), codeFor(i), 'standard', { status: 'RISKLESS', expiresAt: Date.now() + 3_600_000 });
  h.store.close();
  store = await openStationStore({ dataDir: h.dataDir });
  busToken = await addVehicle('bus-34');
  ferryToken = await addVehicle('ferry-2');
  journal = new Journal({ file: join(h.dataDir, 'journal.db'), clock: Date.now, retentionMs: 86_400_000, maxBytes: 64 * 1024 * 1024 });
  await journal.ready;
  vp = await startVehiclePublishing({
    config: { dataDir: h.dataDir, vehicles: { enabled: true, listKeyFile: h.listKeyFile, signingKeyFile: h.signingKeyFile, publishDir: null, publishEveryMs: 300_000, snapshotEveryMs: 21_600_000, keepSnapshots: 2, horizonMs: 172_800_000, maxListAgeMs: 21_600_000, mqtt: NO_MQTT } },
    store,
    lease,
    journal,
    logger: createLogger('silent'),
    clock: Date.now,
    registryRefreshMs: 50,
  });
  app = await vehicleRoutesApp(store, vp.routes, Date.now);
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await vp?.close();
  await journal?.close();
  await store?.close();
  rmSync(h.dataDir, { recursive: true, force: true });
});

describe('the hub\'s vehicle routes', () => {
  it('are described in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(doc.paths['/v1/vehicle-list/head']?.['get']?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/v1/vehicle-list/files/{name}']?.['get']).toBeDefined();
    expect(doc.paths['/v1/vehicles/reports']?.['post']?.security).toEqual([{ bearer: [] }]);
  });

  it('refuses a missing or unknown token with 401, and says there is no head before the first version', async () => {
    for (const headers of [{}, auth('not-a-registered-token'), { authorization: 'Basic abc' }]) {
      const r = await app.inject({ method: 'GET', url: '/v1/vehicle-list/head', headers });
      expect(r.statusCode).toBe(401);
      expect(r.json().error.code).toBe('HG_UNAUTHORIZED');
      expect(r.headers['www-authenticate']).toContain('Bearer');
    }
    const r = await app.inject({ method: 'GET', url: '/v1/vehicle-list/head', headers: auth(busToken) });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.code).toBe('HG_NOT_READY');
  });

  it('serves the signed head while this hub publishes, and its files with Range', async () => {
    const leadVp = await startVehiclePublishingForLease();
    expect(leadVp).toBe('published');
    const r = await app.inject({ method: 'GET', url: '/v1/vehicle-list/head', headers: auth(busToken) });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const head = openHead(r.body, h.publicKey, h.listKey.keyId);
    const name = head.snapshot.name;
    const bytes = readFileSync(join(h.dataDir, 'vehicle-lists', name));
    expect(head.snapshot.bytes).toBe(bytes.length);

    const whole = await app.inject({ method: 'GET', url: `/v1/vehicle-list/files/${name}`, headers: auth(ferryToken) });
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.equals(bytes)).toBe(true);
    expect(whole.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['etag']).toBe(`"${name.slice(0, 64)}"`);

    const cases: Array<[string, number, number]> = [
      ['bytes=0-9', 0, 9],
      ['bytes=10-', 10, bytes.length - 1],
      ['bytes=-5', bytes.length - 5, bytes.length - 1],
      [`bytes=3-${bytes.length + 100}`, 3, bytes.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const part = await app.inject({ method: 'GET', url: `/v1/vehicle-list/files/${name}`, headers: { ...auth(busToken), range } });
      expect(part.statusCode, range).toBe(206);
      expect(part.headers['content-range'], range).toBe(`bytes ${start}-${end}/${bytes.length}`);
      expect(part.rawPayload.equals(bytes.subarray(start, end + 1)), range).toBe(true);
    }
    // A download cut after 10 bytes resumes to the same file.
    const rest = await app.inject({ method: 'GET', url: `/v1/vehicle-list/files/${name}`, headers: { ...auth(busToken), range: 'bytes=10-' } });
    expect(Buffer.concat([bytes.subarray(0, 10), rest.rawPayload]).equals(bytes)).toBe(true);

    const outside = await app.inject({ method: 'GET', url: `/v1/vehicle-list/files/${name}`, headers: { ...auth(busToken), range: `bytes=${bytes.length}-` } });
    expect(outside.statusCode).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${bytes.length}`);
    expect(outside.json().error.code).toBe('HG_RANGE_NOT_SATISFIABLE');
    // Several ranges: the whole file is a valid answer.
    expect((await app.inject({ method: 'GET', url: `/v1/vehicle-list/files/${name}`, headers: { ...auth(busToken), range: 'bytes=0-1,4-5' } })).statusCode).toBe(200);

    for (const bad of ['../hes-gate.db', `${name.toUpperCase()}`, `${name}x`, 'vehicle-head.json', `${'0'.repeat(64)}.hgvl.tmp-1`]) {
      const r2 = await app.inject({ method: 'GET', url: `/v1/vehicle-list/files/${encodeURIComponent(bad)}`, headers: auth(busToken) });
      expect(r2.statusCode, bad).toBe(400);
      expect(r2.json().error.code).toBe('HG_BAD_REQUEST');
    }
    const absent = await app.inject({ method: 'GET', url: `/v1/vehicle-list/files/${'0'.repeat(64)}.hgvl`, headers: auth(busToken) });
    expect(absent.statusCode).toBe(404);
    expect(absent.json().error.code).toBe('HG_NOT_FOUND');
  });

  it('journals an upload\'s entries as <vehicle>/<gate> and keeps the vehicle\'s last upload, version and list age', async () => {
    // Any gate name the decision API takes is taken here too (a validator's 'Arka kapı 2'): an
    // odd name must not hold the vehicle's whole journal back.
    const body = upload({ entries: [entry(), entry({ gate: 'rear', verdict: 'deny', reason: 'RISKY', decisionId: '0b7e4c1a-0000-4000-8000-000000000002', reader: 'rear/reader' }), entry({ gate: 'Arka kapı 2', decisionId: '0b7e4c1a-0000-4000-8000-000000000003' })] });
    const r = await app.inject({ method: 'POST', url: '/v1/vehicles/reports', headers: auth(busToken), payload: body });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ accepted: 3, journaled: 3 });
    await journal.drain();
    const page = await journal.query({ limit: 10 });
    expect(page.entries.map((e) => [e.gate, e.reader, e.verdict, e.reason, e.source]).sort()).toEqual([
      ['bus-34/Arka kapı 2', null, 'pass', 'RISKLESS', 'list'],
      ['bus-34/front', null, 'pass', 'RISKLESS', 'list'],
      ['bus-34/rear', 'rear/reader', 'deny', 'RISKY', 'list'],
    ]);
    const bus = vp.report().vehicles.find((v) => v.id === 'bus-34')!;
    expect(bus).toMatchObject({ lastListVersion: 1_000_000_001, lastListIssuedAt: Date.parse('2026-12-08T06:00:00Z'), revoked: false });
    expect(bus.lastUploadAt).not.toBeNull();
    // And in the store, where `vehicle list` reads it.
    const listed = await runCli(['vehicle', 'list', '--json', '--data-dir', h.dataDir]);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(rows.find((v) => v.id === 'bus-34')).toMatchObject({ lastListVersion: 1_000_000_001, revokedAt: null });
    expect(listed.stdout).not.toContain('token');
  });

  it('refuses uploads out of bounds or out of shape with a coded 4xx, never echoing the sender\'s text', async () => {
    const cases: Array<[string, unknown, number]> = [
      ['1001 entries', upload({ entries: Array.from({ length: 1001 }, () => entry()) }), 400],
      ['an unknown field', upload({ cardId: '04A1B2C3D4E5F6' }), 400],
      ['an entry with a card id', upload({ entries: [entry({ card: '04A1B2C3D4E5F6' })] }), 400],
      ['an unknown reason', upload({ entries: [entry({ reason: 'SECRET_A1B2C3D4E5' })] }), 400],
      ['a gate longer than the decision API takes', upload({ entries: [entry({ gate: 'g'.repeat(65) })] }), 400],
      ['a counter name out of pattern', upload({ counters: { 'A1B2C3D4E5': 1 } }), 400],
      ['a negative counter', upload({ counters: { taps: -1 } }), 400],
      ['no entries field', { listVersion: null, listIssuedAt: null, clockAt: 0, counters: {} }, 400],
      ['not an object', [1, 2, 3], 400],
    ];
    for (const [name, payload, status] of cases) {
      const r = await app.inject({ method: 'POST', url: '/v1/vehicles/reports', headers: auth(busToken), payload: payload as object });
      expect(r.statusCode, name).toBe(status);
      expect(r.json().error.code, name).toBe('HG_BAD_REQUEST');
      expect(r.body, name).not.toContain('A1B2C3D4E5');
    }
    const huge = JSON.stringify(upload({ entries: Array.from({ length: 1000 }, () => entry({ decisionId: 'a'.repeat(64) })), counters: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`c${i}`, 1])) }));
    expect(huge.length).toBeLessThan(1024 * 1024);
    expect((await app.inject({ method: 'POST', url: '/v1/vehicles/reports', headers: { ...auth(busToken), 'content-type': 'application/json' }, payload: huge })).statusCode).toBe(200);
    const tooBig = await app.inject({ method: 'POST', url: '/v1/vehicles/reports', headers: { ...auth(busToken), 'content-type': 'application/json' }, payload: `${huge.slice(0, -1)}, "pad": "${'x'.repeat(1024 * 1024)}"}` });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error.code).toBe('HG_BODY_TOO_LARGE');
  });

  it('refuses a revoked vehicle with 403 HG_VEHICLE_REVOKED within the registry\'s refresh, everywhere, and no other vehicle', async () => {
    const r = await runCli(['vehicle', 'revoke', 'ferry-2', '--data-dir', h.dataDir]);
    expect(r.code, r.stderr).toBe(0);
    // The running hub re-reads the registry on its own timer (50 ms here): wait for its answer to change.
    await vi.waitFor(async () => expect((await app.inject({ method: 'GET', url: '/v1/vehicle-list/head', headers: auth(ferryToken) })).statusCode).toBe(403), { timeout: 10_000, interval: 25 });
    const name = openHead((await app.inject({ method: 'GET', url: '/v1/vehicle-list/head', headers: auth(busToken) })).body, h.publicKey, h.listKey.keyId).snapshot.name;
    for (const [method, url] of [['GET', '/v1/vehicle-list/head'], ['GET', `/v1/vehicle-list/files/${name}`], ['POST', '/v1/vehicles/reports']] as const) {
      const res = await app.inject({ method, url, headers: auth(ferryToken), ...(method === 'POST' ? { payload: upload() } : {}) });
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code).toBe('HG_VEHICLE_REVOKED');
    }
    expect((await app.inject({ method: 'GET', url: '/v1/vehicle-list/head', headers: auth(busToken) })).statusCode).toBe(200);
    // A revoked vehicle is not shown in the per-vehicle metrics' source as active.
    expect(vp.report().vehicles.find((v) => v.id === 'ferry-2')?.revoked).toBe(true);
    // The command refuses what it cannot do, with its code.
    const again = await runCli(['vehicle', 'revoke', 'no-such-bus', '--data-dir', h.dataDir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('HG_VEHICLE');
    const twice = await runCli(['vehicle', 'add', 'bus-34', '--data-dir', h.dataDir]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('--replace');
  });
});

/** Take the lease: the publisher leads and publishes its first version (stepped here, not on a timer). */
async function startVehiclePublishingForLease(): Promise<string> {
  lease.holding = true;
  lease.token = 1;
  lease.emit('acquired', { token: 1 });
  // lead() starts the builder worker; its first step is scheduled on the publisher's timers.
  await vi.waitFor(() => expect(vp.publisher.publishing).toBe(true), { timeout: 10_000, interval: 10 });
  return vp.publisher.step();
}
