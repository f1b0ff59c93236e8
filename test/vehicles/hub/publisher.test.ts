/**
 * The publisher with a real builder worker and a real store, on an injected clock: steps are
 * taken by the test (the timers never fire), so versions, deltas, snapshots and pruning are
 * checked one step at a time without sleeping.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createPrivateKey } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openFile, openHead, signHead, type ListHead } from '../../../src/vehicles/list/index.js';
import { readHeadRecord } from '../../../src/vehicles/hub/head-record.js';
import { startListBuilder } from '../../../src/vehicles/hub/list-builder.js';
import { VehiclePublisher, VERSIONS_PER_TERM } from '../../../src/vehicles/hub/publisher.js';
import type { Timers } from '../../../src/types.js';
import { cardIdFor, codeFor, manualClock } from '../../cards/helpers.js';
import { bind, hubDir, type HubDir } from './fixture.js';

const HOUR = 3_600_000;
const never: Timers = { setTimeout: () => undefined, clearTimeout: () => undefined };
const publishers: VehiclePublisher[] = [];
afterEach(async () => {
  for (const p of publishers.splice(0)) await p.standBy();
});

function logLines(): { logger: pino.Logger; events: () => Array<{ event?: string; level: number; version?: number }> } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
  return { logger: pino({ level: 'debug' }, stream), events: () => lines.map((l) => JSON.parse(l) as { event?: string; level: number }) };
}

async function publisher(h: HubDir, clock: () => number, over: { keepSnapshots?: number } = {}): Promise<{ p: VehiclePublisher; events: ReturnType<typeof logLines>['events'] }> {
  const signer = createPrivateKey(readFileSync(h.signingKeyFile, 'utf8'));
  const { logger, events } = logLines();
  const p = new VehiclePublisher({
    publishDir: h.publishDir,
    headFile: join(h.dataDir, 'vehicle-head.json'),
    restored: await readHeadRecord(join(h.dataDir, 'vehicle-head.json')),
    publishEveryMs: 300_000,
    snapshotEveryMs: 6 * HOUR,
    keepSnapshots: over.keepSnapshots ?? 2,
    horizonMs: 48 * HOUR,
    startBuilder: () => startListBuilder({ dataDir: h.dataDir, listKeyFile: h.listKeyFile, signingKeyFile: h.signingKeyFile, publishDir: h.publishDir }),
    signHead: (head) => signHead(head, signer),
    clock,
    timers: never,
    logger,
  });
  publishers.push(p);
  return { p, events };
}

function head(h: HubDir, p: VehiclePublisher): ListHead {
  return openHead(p.headText()!, h.publicKey, h.listKey.keyId);
}

describe('the vehicle list publisher', () => {
  it('publishes a snapshot first, then deltas, a snapshot every snapshotEveryMs, nothing when unchanged, and prunes past keepSnapshots', async () => {
    const h = hubDir();
    const clock = manualClock(Date.parse('2026-12-08T06:00:00Z'));
    for (let i = 0; i < 20; i++) bind(h.store, cardIdFor(i), codeFor(i), 'standard', { status: 'RISKLESS', expiresAt: clock.now() + 100 * HOUR });
    const { p, events } = await publisher(h, clock.now, { keepSnapshots: 2 });
    expect(p.headText()).toBeNull();
    await p.lead(3);
    expect(await p.step()).toBe('published');
    const first = head(h, p);
    expect(first.version).toBe(3 * VERSIONS_PER_TERM + 1);
    expect(first.deltas).toEqual([]);
    expect(first.issuedAt).toBe(clock.now());

    clock.advance(300_000);
    expect(await p.step()).toBe('unchanged');
    expect(head(h, p).version).toBe(first.version);
    expect(events().filter((e) => e.event === 'vehicles.unchanged' && e.level === 20)).toHaveLength(1);

    const chains: string[][] = [[first.snapshot.name]];
    let changed = 100;
    const change = (): void => bind(h.store, cardIdFor(changed), codeFor(changed++), 'standard', null);
    for (let i = 0; i < 2; i++) {
      change();
      clock.advance(300_000);
      expect(await p.step()).toBe('published');
      const hd = head(h, p);
      expect(hd.snapshot).toEqual(first.snapshot);
      expect(hd.deltas).toHaveLength(i + 1);
      expect(hd.deltas[i]).toMatchObject({ base: hd.version - 1, version: hd.version });
      chains[0]!.push(hd.deltas[i]!.name);
    }
    // Past snapshotEveryMs since the first snapshot: the next change is a snapshot and a new chain,
    // and a delta too, so the chain of deltas runs on through the snapshot.
    for (let s = 0; s < 2; s++) {
      clock.advance(6 * HOUR);
      change();
      expect(await p.step()).toBe('published');
      const hd = head(h, p);
      expect(hd.snapshot.version).toBe(hd.version);
      const into = hd.deltas[hd.deltas.length - 1]!;
      expect(into).toMatchObject({ base: hd.version - 1, version: hd.version });
      chains[chains.length - 1]!.push(into.name);
      const f = openFile(readFileSync(join(h.publishDir, hd.snapshot.name)), h.publicKey, h.listKey.keyId);
      expect(f.header.count).toBe(20 + changed - 100);
      chains.push([hd.snapshot.name]);
      change();
      clock.advance(300_000);
      expect(await p.step()).toBe('published');
      const next = head(h, p);
      chains[chains.length - 1]!.push(next.deltas[next.deltas.length - 1]!.name);
    }
    // Three chains were published, two are kept: exactly their files are left, and the head names
    // every kept delta as one unbroken chain.
    expect(readdirSync(h.publishDir).sort()).toEqual([...chains[1]!, ...chains[2]!].sort());
    const full = head(h, p);
    expect(full.deltas.map((d) => d.name)).toEqual([...chains[1]!.slice(1), ...chains[2]!.slice(1)]);
    // A vehicle one version behind the newest snapshot is named the delta into it and the one after;
    // one holding a version no kept delta leads on from, the deltas after the newest snapshot.
    const behind = openHead(p.headFor(full.snapshot.version - 1)!, h.publicKey, h.listKey.keyId);
    expect(behind).toMatchObject({ version: full.version, snapshot: full.snapshot });
    expect(behind.deltas).toEqual(full.deltas.slice(-2));
    expect(openHead(p.headFor(1)!, h.publicKey, h.listKey.keyId).deltas).toEqual(full.deltas.slice(-1));
    const versions = events().filter((e) => e.event === 'vehicles.published').map((e) => e.version!);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect(p.report()).toMatchObject({ publishing: true, versions: { snapshot: 3, delta: 6 }, unchanged: 1, entries: 20 + changed - 100 });

    await p.standBy();
    expect(p.headText()).toBeNull();
  });

  it('continues above the last version after a restart, with a new snapshot, and above a new lease term\'s floor', async () => {
    const h = hubDir();
    const clock = manualClock(Date.parse('2026-12-08T06:00:00Z'));
    bind(h.store, cardIdFor(1), codeFor(1), 'standard', null);
    const a = await publisher(h, clock.now);
    await a.p.lead(2);
    await a.p.step();
    bind(h.store, cardIdFor(2), codeFor(2), 'standard', null);
    clock.advance(300_000);
    await a.p.step();
    const before = head(h, a.p);
    expect(before.deltas).toHaveLength(1);
    await a.p.standBy();

    // The same term (a test of the record alone): the next version is the record's + 1, and a snapshot.
    const b = await publisher(h, clock.now);
    await b.p.lead(2);
    // Until its first step, the restored head is served.
    expect(b.p.headText()).toBe((await readHeadRecord(join(h.dataDir, 'vehicle-head.json')))!.text);
    clock.advance(300_000);
    expect(await b.p.step()).toBe('published');
    const after = head(h, b.p);
    expect(after.version).toBe(before.version + 1);
    expect(after.deltas).toEqual([]);
    await b.p.standBy();

    // A later term (another hub took the lease in between): above its floor.
    const c = await publisher(h, clock.now);
    await c.p.lead(5);
    clock.advance(300_000);
    expect(await c.p.step()).toBe('published');
    expect(head(h, c.p).version).toBe(5 * VERSIONS_PER_TERM + 1);
  });

  it('puts no card id and no HES code in any published file or in the head', async () => {
    const h = hubDir();
    const clock = manualClock(Date.parse('2026-12-08T06:00:00Z'));
    const ids: string[] = [];
    const codes: string[] = [];
    for (let i = 0; i < 200; i++) {
      ids.push(cardIdFor(i * 7919));
      codes.push(codeFor(i * 104729));
      bind(h.store, ids[i]!, codes[i]!, i % 3 === 0 ? 'senior' : 'standard', i % 4 === 0 ? null : { status: i % 5 === 0 ? 'RISKY' : 'RISKLESS', expiresAt: clock.now() + i * 60_000 });
    }
    const { p } = await publisher(h, clock.now);
    await p.lead(1);
    await p.step();
    h.store.saveStatuses([{ code: codes[1]!, record: { status: 'RISKY', expiresAt: clock.now() + HOUR, fetchedAt: clock.now() } }]);
    clock.advance(300_000);
    expect(await p.step()).toBe('published');
    const blobs = [
      ...readdirSync(h.publishDir).map((n) => readFileSync(join(h.publishDir, n))),
      readFileSync(join(h.dataDir, 'vehicle-head.json')),
      Buffer.from(p.headText()!),
    ];
    expect(blobs.length).toBe(4);
    for (const blob of blobs) {
      const latin = blob.toString('latin1');
      for (const id of ids) {
        expect(latin.includes(id)).toBe(false);
        expect(latin.includes(id.toLowerCase())).toBe(false);
        expect(blob.includes(Buffer.from(id, 'hex'))).toBe(false);
      }
      for (const code of codes) expect(latin.toUpperCase().includes(code)).toBe(false);
    }
  });
});
