/**
 * The list builder against a real hub store: bindings and statuses in SQLite → the builder's
 * worker → signed files in the publish directory that the codec opens, holding exactly each
 * bound card's value at the build time (entry-of.ts's rules), keyed by its fingerprint alone.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { advance, lookup, openFile, type EntryValue, type ListState } from '../../../src/vehicles/list/index.js';
import { startListBuilder, type ListBuilder } from '../../../src/vehicles/hub/list-builder.js';
import { cardIdFor, codeFor } from '../../cards/helpers.js';
import { bind, hubDir, type HubDir } from './fixture.js';

const T = Date.parse('2026-12-08T08:00:00Z');
const HOUR = 3_600_000;
const HORIZON = 48 * HOUR;

const builders: ListBuilder[] = [];
afterEach(async () => {
  for (const b of builders.splice(0)) await b.close();
});

async function builder(h: HubDir): Promise<ListBuilder> {
  const b = await startListBuilder({ dataDir: h.dataDir, listKeyFile: h.listKeyFile, signingKeyFile: h.signingKeyFile, publishDir: h.publishDir });
  builders.push(b);
  return b;
}

function open(h: HubDir, name: string): ReturnType<typeof openFile> {
  return openFile(readFileSync(join(h.publishDir, name)), h.publicKey, h.listKey.keyId);
}

function valueOf(h: HubDir, state: ListState, cardId: string): EntryValue | undefined {
  return lookup(state, h.listKey.fingerprint(cardId, state.bits));
}

describe('the vehicle list builder', () => {
  it('lists every bound card with its value at the build time, keyed by fingerprint', async () => {
    const h = hubDir();
    const cases: Array<[string, Parameters<typeof bind>[4], string, EntryValue]> = [
      ['pass until its expiry, rounded down to the minute', { status: 'RISKLESS', expiresAt: T + HOUR + 59_999 }, 'standard', { cls: 'pass', validUntil: T + HOUR, profile: 'standard' }],
      ['pass to the horizon when it expires after it', { status: 'RISKLESS', expiresAt: T + HORIZON + 1 }, 'senior', { cls: 'pass', validUntil: null, profile: 'senior' }],
      ['pass exactly at the horizon keeps its own end', { status: 'RISKLESS', expiresAt: T + HORIZON }, 'standard', { cls: 'pass', validUntil: T + HORIZON, profile: 'standard' }],
      ['expired when its expiry is the build time', { status: 'RISKLESS', expiresAt: T }, 'standard', { cls: 'expired', validUntil: null, profile: 'standard' }],
      ['expired before', { status: 'RISKLESS', expiresAt: T - HOUR }, 'student', { cls: 'expired', validUntil: null, profile: 'student' }],
      ['risky, whatever its expiry', { status: 'RISKY', expiresAt: T + HOUR }, 'standard', { cls: 'risky', validUntil: null, profile: 'standard' }],
      ['unknown without a status', null, 'standard', { cls: 'unknown', validUntil: null, profile: 'standard' }],
    ];
    cases.forEach(([, status, profile], i) => bind(h.store, cardIdFor(i), codeFor(i), profile, status, T - HOUR));
    // A RISKLESS nobody confirmed for longer than statusMaxAgeMs is not the ministry's word any
    // more: unknown (the vehicle's outage policy decides); a RISKY stays risky however old.
    bind(h.store, cardIdFor(200), codeFor(200), 'standard', { status: 'RISKLESS', expiresAt: T + 10 * HOUR }, T - 86_400_001);
    bind(h.store, cardIdFor(201), codeFor(201), 'standard', { status: 'RISKLESS', expiresAt: T + HORIZON + 1 }, T - 86_400_000);
    bind(h.store, cardIdFor(202), codeFor(202), 'standard', { status: 'RISKY', expiresAt: T + HOUR }, T - 10 * 86_400_000);
    // Two cards of one code share its status.
    bind(h.store, cardIdFor(100), codeFor(0), 'standard', null);
    const b = await builder(h);
    const r = await b.build({ version: 7, issuedAt: T, horizonMs: HORIZON, statusMaxAgeMs: 86_400_000, snapshot: true });
    expect(r.outcome).toBe('published');
    expect(r.delta).toBeNull();
    expect(r.snapshot).toMatchObject({ version: 7, base: null });
    expect(r.cards).toBe(cases.length + 4);
    expect(readdirSync(h.publishDir)).toEqual([r.snapshot!.name]);
    const f = open(h, r.snapshot!.name);
    if (f.kind !== 'snapshot') throw new Error('expected a snapshot');
    expect(f.header).toMatchObject({ version: 7, issuedAt: T, horizonMs: HORIZON, keyId: 'vl-test', count: cases.length + 4 });
    cases.forEach(([name, , , expected], i) => expect(valueOf(h, f.state, cardIdFor(i)), name).toEqual(expected));
    expect(valueOf(h, f.state, cardIdFor(100))).toEqual({ cls: 'pass', validUntil: T + HOUR, profile: 'standard' });
    expect(valueOf(h, f.state, cardIdFor(200))).toEqual({ cls: 'unknown', validUntil: null, profile: 'standard' });
    expect(valueOf(h, f.state, cardIdFor(201))).toEqual({ cls: 'pass', validUntil: null, profile: 'standard' });
    expect(valueOf(h, f.state, cardIdFor(202))).toEqual({ cls: 'risky', validUntil: null, profile: 'standard' });
    // Exactly these entries: no card is listed twice, none is missing.
    expect(f.state.fps.length).toBe(cases.length + 4);
    expect(valueOf(h, f.state, cardIdFor(999))).toBeUndefined();
  });

  it('says unchanged when nothing changed, and writes a delta that leads to the new state when something did', async () => {
    const h = hubDir();
    for (let i = 0; i < 50; i++) bind(h.store, cardIdFor(i), codeFor(i), 'standard', { status: 'RISKLESS', expiresAt: T + 10 * HOUR });
    const b = await builder(h);
    const first = await b.build({ version: 1, issuedAt: T, horizonMs: HORIZON, statusMaxAgeMs: 86_400_000, snapshot: false });
    expect(first.snapshot).not.toBeNull();
    expect((await b.build({ version: 2, issuedAt: T + 60_000, horizonMs: HORIZON, statusMaxAgeMs: 86_400_000, snapshot: false })).outcome).toBe('unchanged');
    h.store.saveStatuses([{ code: codeFor(3), record: { status: 'RISKY', expiresAt: T + HOUR, fetchedAt: T } }]);
    h.store.deleteBinding(cardIdFor(4));
    bind(h.store, cardIdFor(60), codeFor(60), 'senior', null);
    const next = await b.build({ version: 2, issuedAt: T + 120_000, horizonMs: HORIZON, statusMaxAgeMs: 86_400_000, snapshot: false });
    expect(next.outcome).toBe('published');
    expect(next.snapshot).toBeNull();
    expect(next.delta).toMatchObject({ version: 2, base: 1 });
    const snap = open(h, first.snapshot!.name);
    const delta = open(h, next.delta!.name);
    if (snap.kind !== 'snapshot' || delta.kind !== 'delta') throw new Error('kinds');
    expect(delta.delta.upserted.length + delta.delta.removed.length).toBe(3);
    const state = advance(snap.state, 1, delta);
    expect(valueOf(h, state, cardIdFor(3))?.cls).toBe('risky');
    expect(valueOf(h, state, cardIdFor(4))).toBeUndefined();
    expect(valueOf(h, state, cardIdFor(60))).toEqual({ cls: 'unknown', validUntil: null, profile: 'senior' });
    expect(valueOf(h, state, cardIdFor(5))).toEqual({ cls: 'pass', validUntil: T + 10 * HOUR, profile: 'standard' });
  });

  it('refuses to start with a key file that is not a key', async () => {
    const h = hubDir();
    await expect(startListBuilder({ dataDir: h.dataDir, listKeyFile: h.signingKeyFile, signingKeyFile: h.signingKeyFile, publishDir: h.publishDir })).rejects.toMatchObject({ code: 'HG_CONFIG_INVALID' });
    await expect(startListBuilder({ dataDir: h.dataDir, listKeyFile: h.listKeyFile, signingKeyFile: h.listKeyFile, publishDir: h.publishDir })).rejects.toMatchObject({ code: 'HG_CONFIG_FILE' });
  });
});
