/**
 * The ministry's findings on the vehicle list (a code expired, a code not found): learnt by a
 * hub's refresher from the simulator over HTTP, persisted by the store worker into the hub's
 * SQLite file, and listed by the builder's worker as `expired` / `not-found` — not `unknown`,
 * which a vehicle hands to the gate's outage policy (under `pass`, a code the ministry calls
 * expired would pass on a bus while every station denies it). A later status replaces a
 * finding and a later finding replaces a status; a finding goes with its code's last binding,
 * from every file of the data directory, and with the statuses' retention at start-up.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { STORE_FILE } from '../../../src/cards/store.js';
import { createMinistryClient } from '../../../src/ministry/client.js';
import type { MinistryClient } from '../../../src/ministry/types.js';
import { NO_LIMIT_EXPIRY, SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../../src/simulator/index.js';
import { createRefresher, type Refresher } from '../../../src/status/refresher.js';
import { StatusService, type StatusCacheOptions } from '../../../src/status/status-service.js';
import { startListBuilder, type ListBuilder } from '../../../src/vehicles/hub/list-builder.js';
import { NOT_FOUND_MAX_AGE_MS } from '../../../src/vehicles/hub/entry-of.js';
import { lookup, openFile, type EntryClass } from '../../../src/vehicles/list/index.js';
import { cardIdFor, codeFor, filesHolding, manualClock } from '../../cards/helpers.js';
import { bind, hubDir, type HubDir } from './fixture.js';

const HOUR = 3_600_000;
const HORIZON = 48 * HOUR;
const ttl: StatusCacheOptions = {
  risklessTtlMs: 600_000,
  riskyTtlMs: 21_600_000,
  notFoundTtlMs: 60_000,
  expiredTtlMs: 3_600_000,
  lastKnownMaxAgeMs: 86_400_000,
  maxEntries: 10_000,
};

const EXPIRED_CARD = cardIdFor(1);
const NOT_FOUND_CARD = cardIdFor(2);
const RISKLESS_CARD = cardIdFor(3);
const PAST_EXPIRY_CARD = cardIdFor(4);
/** A second card of the not-found code: the finding stays while one card still holds the code. */
const NOT_FOUND_CARD_2 = cardIdFor(5);

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

interface Hub {
  h: HubDir;
  sim: Simulator;
  store: StationStore;
  service: StatusService;
  refresher: Refresher;
  builder: ListBuilder;
  clock: ReturnType<typeof manualClock>;
}

/** A hub's parts as the service runs them: the store in its worker, the refresher against the simulator, the builder in its worker. */
async function hub(): Promise<Hub> {
  const h = hubDir();
  // The fixture's direct connection goes: the station store's worker is the only writer, as in the service.
  h.store.close();
  const sim = await startSimulator();
  open.push(sim);
  const client: MinistryClient = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
  open.push(client);
  const store = await openStationStore({ dataDir: h.dataDir });
  open.push(store);
  const clock = manualClock(Date.parse('2026-12-08T08:00:00Z'));
  const service = new StatusService({ ...ttl, ministry: (code) => client.checkHesCode(code), clock: clock.now, persistence: store });
  const refresher = createRefresher({ store, ministry: client, sink: service, clock: clock.now, minRotationMs: 0 });
  open.push({ close: () => refresher.stop() });
  const builder = await startListBuilder({ dataDir: h.dataDir, listKeyFile: h.listKeyFile, signingKeyFile: h.signingKeyFile, publishDir: h.publishDir });
  open.push(builder);
  return { h, sim, store, service, refresher, builder, clock };
}

/** One refresher step over every bound code, written by the store worker before it returns. */
async function refresh(x: Hub): Promise<void> {
  const r = await x.refresher.runOnce();
  expect(r.outcome).toBe('ok');
  await x.store.flush();
}

let version = 0;
/** A snapshot built now: each card's class on it. */
async function listed(x: Hub, cards: readonly string[], issuedAt = x.clock.now()): Promise<Array<EntryClass | undefined>> {
  const r = await x.builder.build({ version: ++version, issuedAt, horizonMs: HORIZON, statusMaxAgeMs: 86_400_000, snapshot: true });
  const f = openFile(fs.readFileSync(path.join(x.h.publishDir, r.snapshot!.name)), x.h.publicKey, x.h.listKey.keyId);
  if (f.kind !== 'snapshot') throw new Error('expected a snapshot');
  return cards.map((c) => lookup(f.state, x.h.listKey.fingerprint(c, f.state.bits))?.cls);
}

/** What the file holds for a code, read on a connection of its own: [status, finding]. */
function persisted(x: Hub, code: string): [string | undefined, string | undefined] {
  const db = new Database(path.join(x.h.dataDir, STORE_FILE), { readonly: true });
  try {
    const s = db.prepare<[string], { status: string }>('SELECT status FROM statuses WHERE code = ?').get(code);
    const f = db.prepare<[string], { kind: string }>('SELECT kind FROM findings WHERE code = ?').get(code);
    return [s?.status, f?.kind];
  } finally {
    db.close();
  }
}

async function bindAll(x: Hub): Promise<void> {
  await x.store.putBindings([
    { cardId: EXPIRED_CARD, hesCode: SAMPLE.EXPIRED, profile: 'standard' },
    { cardId: NOT_FOUND_CARD, hesCode: SAMPLE.NOT_FOUND, profile: 'standard' },
    { cardId: RISKLESS_CARD, hesCode: SAMPLE.RISKLESS, profile: 'standard' },
    { cardId: PAST_EXPIRY_CARD, hesCode: SAMPLE.RISKLESS_PAST_EXPIRY, profile: 'standard' },
    { cardId: NOT_FOUND_CARD_2, hesCode: SAMPLE.NOT_FOUND, profile: 'senior' },
  ]);
}

const CARDS = [EXPIRED_CARD, NOT_FOUND_CARD, RISKLESS_CARD, PAST_EXPIRY_CARD];

describe('findings on the vehicle list', () => {
  it('lists a code the ministry calls expired as expired and one it does not know as not-found, from the persisted file', async () => {
    const x = await hub();
    await bindAll(x);
    expect(await listed(x, CARDS)).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    await refresh(x);
    // The store worker wrote them: a finding, never a status row, for the two codes.
    expect(persisted(x, SAMPLE.EXPIRED)).toEqual([undefined, 'expired']);
    expect(persisted(x, SAMPLE.NOT_FOUND)).toEqual([undefined, 'not-found']);
    expect(persisted(x, SAMPLE.RISKLESS)).toEqual(['RISKLESS', undefined]);
    x.clock.advance(60_000);
    expect(await listed(x, [...CARDS, NOT_FOUND_CARD_2])).toEqual(['expired', 'not-found', 'pass', 'expired', 'not-found']);
    // The station decides as before: the finding is the cache's, the tap asks nothing.
    expect(x.service.fresh(SAMPLE.EXPIRED, x.clock.now())).toEqual({ kind: 'expired', source: 'cache' });
  });

  it('a later status replaces a finding, and a later finding a status', async () => {
    const x = await hub();
    await bindAll(x);
    await refresh(x);
    // The ministry learns the not-found code; the RISKLESS one expires.
    x.sim.setCode(SAMPLE.NOT_FOUND, { status: 'RISKLESS', expirationDate: NO_LIMIT_EXPIRY, note: 'now known' });
    x.sim.setCode(SAMPLE.RISKLESS, { errorKey: 'hescodehasbeenexpired', note: 'now expired' });
    x.clock.advance(5_000);
    await refresh(x);
    expect(persisted(x, SAMPLE.NOT_FOUND)).toEqual(['RISKLESS', undefined]);
    expect(persisted(x, SAMPLE.RISKLESS)).toEqual([undefined, 'expired']);
    expect(await listed(x, CARDS)).toEqual(['expired', 'pass', 'expired', 'expired']);
  });

  it('a not-found nobody confirmed for longer than its bound is unknown again: the outage policy decides', async () => {
    const x = await hub();
    await bindAll(x);
    await refresh(x);
    const at = x.clock.now();
    expect(await listed(x, [NOT_FOUND_CARD], at + NOT_FOUND_MAX_AGE_MS)).toEqual(['not-found']);
    expect(await listed(x, [NOT_FOUND_CARD, EXPIRED_CARD], at + NOT_FOUND_MAX_AGE_MS + 1000)).toEqual(['unknown', 'expired']);
    // The next rotation confirms it: not-found again.
    x.clock.advance(NOT_FOUND_MAX_AGE_MS + 1000);
    await refresh(x);
    expect(await listed(x, [NOT_FOUND_CARD])).toEqual(['not-found']);
  });

  it('a finding goes with its code\'s last binding (deleted or rebound), from every file of the data directory', async () => {
    const x = await hub();
    await bindAll(x);
    const EXPIRED_CARD_2 = cardIdFor(6);
    await x.store.putBindings([{ cardId: EXPIRED_CARD_2, hesCode: SAMPLE.EXPIRED, profile: 'standard' }]);
    await refresh(x);
    const gone = [SAMPLE.EXPIRED, SAMPLE.NOT_FOUND, SAMPLE.RISKLESS_PAST_EXPIRY];
    expect(gone.map((code) => persisted(x, code)[1])).toEqual(['expired', 'not-found', 'expired']);
    expect(filesHolding(x.h.dataDir, gone).length).toBeGreaterThan(0);
    // While another card holds the code, its finding stays (a deletion, a rebinding).
    expect((await x.store.adminDelete(EXPIRED_CARD, 'admin'))?.hesCode).toBe(SAMPLE.EXPIRED);
    expect(persisted(x, SAMPLE.EXPIRED)).toEqual([undefined, 'expired']);
    expect((await x.store.adminPut({ cardId: NOT_FOUND_CARD, hesCode: codeFor(7) }, 'admin')).outcome).toBe('updated');
    expect(persisted(x, SAMPLE.NOT_FOUND)).toEqual([undefined, 'not-found']);
    // The last card of each code: deleted, deleted, rebound.
    expect((await x.store.adminDelete(EXPIRED_CARD_2, 'admin'))?.hesCode).toBe(SAMPLE.EXPIRED);
    expect((await x.store.adminDelete(NOT_FOUND_CARD_2, 'admin'))?.hesCode).toBe(SAMPLE.NOT_FOUND);
    expect((await x.store.adminPut({ cardId: PAST_EXPIRY_CARD, hesCode: codeFor(8) }, 'admin')).outcome).toBe('updated');
    // An operator's deletion is gone from every file when acknowledged; it takes the rebinding's along.
    expect((await x.store.adminDelete(RISKLESS_CARD, 'admin'))?.hesCode).toBe(SAMPLE.RISKLESS);
    expect(filesHolding(x.h.dataDir, gone)).toEqual([]);
    // The scan reads real bytes: a live code is found (card 7's new code, bound).
    expect(filesHolding(x.h.dataDir, [codeFor(7)]).length).toBeGreaterThan(0);
  });

  it('findings past the statuses\' maximum age go at start-up, as statuses do', async () => {
    const x = await hub();
    await bindAll(x);
    await refresh(x);
    x.clock.advance(ttl.lastKnownMaxAgeMs - 1000);
    // A restart within the age keeps them; past it, they go with the statuses.
    const again = new StatusService({ ...ttl, ministry: () => Promise.reject(new Error('down')), clock: x.clock.now, persistence: x.store });
    again.restore();
    await x.store.flush();
    expect(persisted(x, SAMPLE.EXPIRED)).toEqual([undefined, 'expired']);
    x.clock.advance(2000);
    const later = new StatusService({ ...ttl, ministry: () => Promise.reject(new Error('down')), clock: x.clock.now, persistence: x.store });
    // Findings are never read back: only the statuses count as restored.
    expect(later.restore()).toBe(0);
    await x.store.flush();
    expect(persisted(x, SAMPLE.EXPIRED)).toEqual([undefined, undefined]);
    expect(persisted(x, SAMPLE.NOT_FOUND)).toEqual([undefined, undefined]);
    expect(later.fresh(SAMPLE.EXPIRED, x.clock.now())).toBeUndefined();
  });
});

describe('entry classes from a store written directly', () => {
  it('a finding decides over a status left beside it (never written so, but the stricter wins)', async () => {
    const h = hubDir();
    open.push(h.store);
    const T = Date.parse('2026-12-08T08:00:00Z');
    bind(h.store, cardIdFor(0), codeFor(0), 'standard', { status: 'RISKLESS', expiresAt: T + HOUR }, T);
    const raw = new Database(path.join(h.dataDir, STORE_FILE));
    raw.prepare("INSERT INTO findings (code, kind, at) VALUES (?, 'expired', ?)").run(codeFor(0), T - 1000);
    raw.close();
    const b = await startListBuilder({ dataDir: h.dataDir, listKeyFile: h.listKeyFile, signingKeyFile: h.signingKeyFile, publishDir: h.publishDir });
    open.push(b);
    const r = await b.build({ version: 1, issuedAt: T, horizonMs: HORIZON, statusMaxAgeMs: 86_400_000, snapshot: true });
    const f = openFile(fs.readFileSync(path.join(h.publishDir, r.snapshot!.name)), h.publicKey, h.listKey.keyId);
    if (f.kind !== 'snapshot') throw new Error('expected a snapshot');
    expect(lookup(f.state, h.listKey.fingerprint(cardIdFor(0), f.state.bits))?.cls).toBe('expired');
  });
});
