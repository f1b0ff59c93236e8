/**
 * A vehicle decides as a station would, card by card (every verdict compared). 100,000 cards are
 * bound in a hub's store with a city's mix — RISKLESS, RISKY, codes past their validity, codes
 * with no status — and two profiles, one with travel hours. The hub's own builder (its worker, the
 * real list key and signing key) writes the list; the vehicle opens the signed snapshot as its
 * list worker does. Then, at one instant:
 *
 *   station: DecisionService over the same store's bindings and the statuses it restores from it,
 *            its ministry away: a status decides as last-known (the gate's default policy), a
 *            code with none goes to the outage policy
 *   vehicle: DecisionService over the list alone (no binding, no HES code on board)
 *
 * decide every card through the same gate policy, once inside the senior profile's hours and once
 * outside them and after some codes expired. Verdict and reason agree for every card but one kind,
 * asserted as it is: a code already past its validity when the station started, which the station
 * (no status restored, no ministry) denies as MINISTRY_UNAVAILABLE and the vehicle as CODE_EXPIRED.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { loadConfig } from '../../../src/config/load.js';
import { DecisionService } from '../../../src/decisions/decision-service.js';
import { HesGateError } from '../../../src/errors.js';
import { gateLookup } from '../../../src/policy/gate-lookup.js';
import { StatusService } from '../../../src/status/status-service.js';
import type { Credential } from '../../../src/types.js';
import { openFile } from '../../../src/vehicles/list/index.js';
import { startListBuilder } from '../../../src/vehicles/hub/list-builder.js';
import { CardList } from '../../../src/vehicles/vehicle/card-list.js';
import { cardIdFor, codeFor } from '../../cards/helpers.js';
import { bind, hubDir, type HubDir } from '../hub/fixture.js';

const CARDS = 100_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** 09:00 UTC: 12:00 in Istanbul, inside the senior profile's hours; the second instant is outside them. */
const T = Date.UTC(2026, 11, 8, 9);
const HORIZON = 48 * HOUR;

describe('a vehicle decides every card as a station would', () => {
  let h: HubDir;
  let store: StationStore;
  const kinds = new Map<string, number>();

  beforeAll(async () => {
    h = hubDir();
    for (let i = 0; i < CARDS; i++) {
      const profile = i % 4 === 0 ? 'senior' : 'standard';
      // A city's mix: mostly RISKLESS (some ending within the list's horizon), RISKY, codes past
      // their validity, and codes the record holds no status for.
      const m = i % 20;
      const status =
        m === 3 ? { status: 'RISKY' as const, expiresAt: T + 30 * 24 * HOUR }
        : m === 7 ? { status: 'RISKLESS' as const, expiresAt: T - HOUR }
        : m === 11 ? null
        : m === 13 ? { status: 'RISKLESS' as const, expiresAt: T + 3 * HOUR + 30_000 }
        : { status: 'RISKLESS' as const, expiresAt: T + 30 * 24 * HOUR };
      bind(h.store, cardIdFor(i), codeFor(i), profile, status, T - MINUTE);
    }
    h.store.close();
    const builder = await startListBuilder({ dataDir: h.dataDir, listKeyFile: h.listKeyFile, signingKeyFile: h.signingKeyFile, publishDir: h.publishDir });
    try {
      const built = await builder.build({ version: 1, issuedAt: T, horizonMs: HORIZON, statusMaxAgeMs: 24 * HOUR, snapshot: true });
      expect(built.cards).toBe(CARDS);
      snapshotFile = join(h.publishDir, built.snapshot!.name);
    } finally {
      await builder.close();
    }
    store = await openStationStore({ dataDir: h.dataDir });
    await store.whenIndexed();
  }, 180_000);

  afterAll(async () => {
    await store?.close();
  });

  let snapshotFile = '';

  it('verdict and reason agree for all 100,000 cards, inside and outside a profile\'s hours', async () => {
    const { config } = loadConfig({
      noFile: true,
      env: {},
      overrides: { gates: { defaults: { profileHours: { senior: [{ from: '10:00', to: '16:00' }] } }, list: [{ id: 'G1' }] } },
    });
    const gates = gateLookup(config.gates);
    let now = T;
    const clock = (): number => now;

    // The station: the record's statuses restored into its cache; its ministry away.
    const status = new StatusService({
      ...config.cache,
      ministry: () => Promise.reject(new HesGateError('HG_MINISTRY_CONNECTION', 'the ministry is away in this test')),
      clock,
      persistence: store,
    });
    status.restore(false);
    const station = new DecisionService({ status, gates, clock, bindings: { getBinding: (id) => store.tapBinding(id) } });

    // The vehicle: the signed snapshot opened as its list worker opens it, and nothing else.
    const opened = openFile(readFileSync(snapshotFile), h.publicKey, h.listKey.keyId);
    if (opened.kind !== 'snapshot') throw new Error('expected a snapshot');
    const list = new CardList({ fingerprint: (id, bits) => h.listKey.fingerprint(id, bits), clock, maxListAgeMs: 6 * HOUR });
    list.swap({ version: 1, issuedAt: T, horizonMs: HORIZON, state: opened.state });
    const noStatus = { lookup: () => ({ kind: 'unavailable' as const }) };
    const vehicle = new DecisionService({ status: noStatus, gates, clock, cardList: list });

    for (const at of [T + HOUR, T + 5 * HOUR]) {
      now = at;
      const differ: string[] = [];
      for (let i = 0; i < CARDS; i++) {
        const tap: Credential = { kind: 'card', value: cardIdFor(i), gate: 'G1', at };
        const s = await station.decide(tap);
        const v = await vehicle.decide(tap);
        if (s === undefined || v === undefined) throw new Error('gate G1 is configured');
        kinds.set(`${s.verdict} ${s.reason}`, (kinds.get(`${s.verdict} ${s.reason}`) ?? 0) + 1);
        if (i % 20 === 7) {
          // A code past its validity before the station started: the station restores no status
          // for it and, its ministry away, cannot say why it denies; the vehicle's list carries the
          // record's word. Both deny; a station whose ministry answers says CODE_EXPIRED too.
          if (s.verdict !== 'deny' || s.reason !== 'MINISTRY_UNAVAILABLE' || v.verdict !== 'deny' || v.reason !== 'CODE_EXPIRED') differ.push(`card ${i} (expired): station ${s.verdict}/${s.reason}, vehicle ${v.verdict}/${v.reason}`);
        } else if (s.verdict !== v.verdict || s.reason !== v.reason) differ.push(`card ${i} at +${(at - T) / HOUR} h: station ${s.verdict}/${s.reason}/${s.source}, vehicle ${v.verdict}/${v.reason}/${v.source}`);
        else if (s.source !== 'none' && v.source !== 'list') differ.push(`card ${i}: decided from ${v.source} on board`);
      }
      expect(differ.slice(0, 10), `${differ.length} cards differ`).toEqual([]);
    }
    // Every kind of verdict was met: the comparison is not of 100,000 identical passes.
    expect([...kinds.keys()].sort()).toEqual(['deny CODE_EXPIRED', 'deny MINISTRY_UNAVAILABLE', 'deny OUTSIDE_HOURS', 'deny RISKY', 'pass RISKLESS']);
  }, 180_000);
});
