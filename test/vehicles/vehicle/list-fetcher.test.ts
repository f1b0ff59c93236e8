/**
 * The vehicle's list fetcher against a real HTTP server serving real signed list files: the first
 * list, a delta chain, a download cut mid-file and resumed with Range, a server that ignores Range,
 * tampered, wrongly signed and replayed heads and files refused and counted, the fall back to a
 * snapshot, and a restart that decides offline from the files kept on disk. The list worker is the
 * real worker thread; polls are driven by the test (no timers, no sleeps).
 */
import { mkdtempSync, rmSync, statSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import type { Timers } from '../../../src/types.js';
import type { EntryValue, RefusalReason } from '../../../src/vehicles/list/types.js';
import { CardList } from '../../../src/vehicles/vehicle/card-list.js';
import { hubAgent } from '../../../src/vehicles/vehicle/hub-http.js';
import type { LinkChange } from '../../../src/vehicles/vehicle/link-state.js';
import { ListFetcher } from '../../../src/vehicles/vehicle/list-fetcher.js';
import { ListWorkerClient } from '../../../src/vehicles/vehicle/list-worker-client.js';
import { SignedClock } from '../../../src/vehicles/vehicle/signed-clock.js';
import { ListHub, signingKey, TOKEN } from './list-hub.js';

const T = Date.UTC(2026, 11, 8, 9);
const MINUTE = 60_000;
const noTimers: Timers = { setTimeout: () => 0, clearTimeout: () => undefined };

const pass = (profile = 'standard'): EntryValue => ({ cls: 'pass', validUntil: null, profile });
const risky: EntryValue = { cls: 'risky', validUntil: null, profile: 'standard' };

/** Cards numbered from 1: enough of them that a snapshot is some kilobytes (a cut has bytes to cut). */
function cards(n: number, extra: Record<string, EntryValue> = {}): Record<string, EntryValue> {
  const out: Record<string, EntryValue> = {};
  for (let i = 1; i <= n; i++) out[`04${i.toString(16).toUpperCase().padStart(8, '0')}`] = pass();
  return { ...out, ...extra };
}
const CARD = '0400000001';

interface Vehicle {
  fetcher: ListFetcher;
  list: CardList;
  clock: SignedClock;
  refusals: Array<{ reason: RefusalReason; message: string }>;
  links: LinkChange[];
  close(): Promise<void>;
}

describe('the vehicle list fetcher', () => {
  let dir: string;
  let hub: ListHub;
  let agent: Agent;
  const open: Vehicle[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hg-vehicle-'));
    hub = new ListHub();
    await hub.start();
    // A silent link (the hub's cut) ends at the body timeout: short here, so a cut costs the test little.
    agent = hubAgent({ connectTimeoutMs: 1000, headersTimeoutMs: 2000, bodyTimeoutMs: 300 });
  });

  afterEach(async () => {
    for (const v of open.splice(0)) await v.close();
    await agent.close();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function vehicle(o: { publicKey?: string; now?: number; headUrl?: string } = {}): Promise<Vehicle> {
    const clock = new SignedClock(() => o.now ?? T);
    const list = new CardList({ fingerprint: (id, bits) => hub.key.fingerprint(id, bits), clock: clock.now, maxListAgeMs: 6 * 3_600_000 });
    const worker = new ListWorkerClient({ dir, publicKey: o.publicKey ?? hub.signer.publicKey, keyId: hub.key.keyId });
    const refusals: Vehicle['refusals'] = [];
    const links: LinkChange[] = [];
    const fetcher = new ListFetcher({
      headUrl: o.headUrl ?? hub.headUrl,
      filesUrl: `${hub.url}/v1/vehicle-list/files/`,
      token: () => TOKEN,
      dir,
      worker,
      list,
      clock,
      pollMs: 60_000,
      dispatcher: agent,
      timers: noTimers,
      onRefused: (reason, message) => refusals.push({ reason, message }),
      onLink: (c) => links.push(c),
    });
    await fetcher.start();
    const v: Vehicle = {
      fetcher,
      list,
      clock,
      refusals,
      links,
      close: async () => {
        await fetcher.stop();
        await worker.close();
      },
    };
    open.push(v);
    return v;
  }

  const version = (v: Vehicle): number | null => v.fetcher.report().version;
  const refused = (v: Vehicle, reason: RefusalReason): number => v.fetcher.report().refused.get(reason) ?? 0;
  const fileRequests = (): string[] => hub.requests.filter((r) => r.url.includes('/files/')).map((r) => r.url.slice(r.url.lastIndexOf('/') + 1));

  it('takes the first list from the snapshot and its deltas, and decides from it', async () => {
    const s1 = hub.snapshot(1, T - 10 * MINUTE, cards(50));
    const d2 = hub.delta(1, 2, T - 5 * MINUTE, cards(50, { [CARD]: risky }));
    hub.publish(s1, [d2]);
    const v = await vehicle();
    expect(v.list.lookup(CARD)).toBe('no list');
    await v.fetcher.poll();
    expect(version(v)).toBe(2);
    expect(v.list.lookup(CARD)).toMatchObject({ outcome: { kind: 'status', record: { status: 'RISKY' }, source: 'list' } });
    expect(v.list.lookup('0400000002')).toMatchObject({ profile: 'standard', outcome: { kind: 'status', record: { status: 'RISKLESS' }, source: 'list' } });
    expect(v.list.lookup('04FFFFFFFF')).toBeUndefined();
    expect(fileRequests()).toEqual([s1.name, d2.name]);
    // The token went to the hub with every request.
    expect(hub.requests.every((r) => r.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(v.fetcher.report().bytesFetched).toBeGreaterThanOrEqual(s1.bytes + d2.bytes);
    expect(v.refusals).toEqual([]);
  });

  it('follows the chain by deltas only, and stays put when the head has not moved', async () => {
    const s1 = hub.snapshot(1, T - 20 * MINUTE, cards(50));
    hub.publish(s1, []);
    const v = await vehicle();
    await v.fetcher.poll();
    expect(version(v)).toBe(1);
    const d2 = hub.delta(1, 2, T - 15 * MINUTE, cards(49));
    const d3 = hub.delta(2, 3, T - 10 * MINUTE, cards(49, { [CARD]: risky }));
    hub.publish(s1, [d2, d3]);
    await v.fetcher.poll();
    expect(version(v)).toBe(3);
    expect(fileRequests()).toEqual([s1.name, d2.name, d3.name]);
    expect(v.list.lookup('0400000032')).toBeUndefined(); // card 50, removed in version 2
    expect(v.list.lookup(CARD)).toMatchObject({ outcome: { record: { status: 'RISKY' } } });
    await v.fetcher.poll();
    expect(fileRequests()).toHaveLength(3);
    expect(v.refusals).toEqual([]);
  });

  it('falls back to the newest snapshot when its version is no longer in the chain', async () => {
    const s1 = hub.snapshot(1, T - 60 * MINUTE, cards(50));
    hub.publish(s1, []);
    const v = await vehicle();
    await v.fetcher.poll();
    hub.delta(1, 2, T - 50 * MINUTE, cards(51));
    const s3 = hub.snapshot(3, T - 40 * MINUTE, cards(52));
    const d4 = hub.delta(3, 4, T - 30 * MINUTE, cards(53));
    hub.publish(s3, [d4]);
    await v.fetcher.poll();
    expect(version(v)).toBe(4);
    expect(fileRequests()).toEqual([s1.name, s3.name, d4.name]);
    expect(v.list.lookup('0400000035')).toMatchObject({ outcome: { kind: 'status' } }); // card 53
    // Only the files of the version held stay on disk.
    expect(readdirSync(join(dir, 'files')).sort()).toEqual([s3.name, d4.name].sort());
  });

  it('resumes a file cut mid-download with a Range request for the rest', async () => {
    const s1 = hub.snapshot(1, T - 10 * MINUTE, cards(3000));
    hub.publish(s1, []);
    expect(s1.bytes).toBeGreaterThan(4000);
    hub.cutNextFileAfter = 3000;
    const v = await vehicle();
    await v.fetcher.poll();
    expect(version(v)).toBeNull();
    const partial = join(dir, 'partial', s1.name);
    const kept = statSync(partial).size;
    expect(kept).toBe(3000);
    expect(v.links.at(-1)).toMatchObject({ state: 'unreachable' });
    await v.fetcher.poll();
    expect(version(v)).toBe(1);
    const ranges = hub.requests.filter((r) => r.url.endsWith(s1.name)).map((r) => r.range);
    expect(ranges).toEqual([undefined, `bytes=${kept}-`]);
    // The rest only: the file crossed the link once (and the part cut), not twice.
    expect(hub.fileBytesSent).toBe(3000 + s1.bytes - kept);
    expect(existsSync(partial)).toBe(false);
    expect(v.links.at(-1)).toMatchObject({ state: 'up' });
    expect(v.refusals).toEqual([]);
  });

  it('starts again from 0 when the server ignores Range', async () => {
    const s1 = hub.snapshot(1, T - 10 * MINUTE, cards(3000));
    hub.publish(s1, []);
    hub.cutNextFileAfter = 2000;
    hub.ignoreRange = true;
    const v = await vehicle();
    await v.fetcher.poll();
    expect(version(v)).toBeNull();
    await v.fetcher.poll();
    expect(version(v)).toBe(1);
    expect(v.refusals).toEqual([]);
  });

  it('refuses and counts a tampered file, keeps the version held, and takes the good file later', async () => {
    const s1 = hub.snapshot(1, T - 20 * MINUTE, cards(50));
    hub.publish(s1, []);
    const v = await vehicle();
    await v.fetcher.poll();
    const d2 = hub.delta(1, 2, T - 10 * MINUTE, cards(50, { [CARD]: risky }));
    hub.publish(s1, [d2]);
    const bad = Buffer.from(hub.files.get(d2.name)!);
    bad[bad.length - 100]! ^= 0xff;
    hub.tampered.set(d2.name, bad);
    await v.fetcher.poll();
    expect(version(v)).toBe(1);
    expect(refused(v, 'tampered')).toBe(1);
    expect(v.list.lookup(CARD)).toMatchObject({ outcome: { record: { status: 'RISKLESS' } } });
    expect(existsSync(join(dir, 'partial', d2.name))).toBe(false);
    hub.tampered.clear();
    await v.fetcher.poll();
    expect(version(v)).toBe(2);
    expect(v.list.lookup(CARD)).toMatchObject({ outcome: { record: { status: 'RISKY' } } });
  });

  it('refuses a head and a file signed by another key', async () => {
    const other = signingKey();
    const s1 = hub.snapshot(1, T - 10 * MINUTE, cards(50));
    hub.publish(s1, [], other.privateKey);
    const v = await vehicle();
    await v.fetcher.poll();
    expect(refused(v, 'signature')).toBe(1);
    expect(version(v)).toBeNull();
    expect(fileRequests()).toEqual([]);
    // A head signed right naming a file signed by another key: the file is refused.
    const forged = hub.snapshot(2, T - 5 * MINUTE, cards(60), other.privateKey);
    hub.publish(forged, []);
    await v.fetcher.poll();
    expect(refused(v, 'signature')).toBe(2);
    expect(version(v)).toBeNull();
    expect(v.refusals.map((r) => r.reason)).toEqual(['signature', 'signature']);
  });

  it('refuses a replayed head: older than the newest head seen, or than the version held', async () => {
    const s1 = hub.snapshot(1, T - 30 * MINUTE, cards(50));
    hub.publish(s1, []);
    const v1Head = hub.headText!;
    const v = await vehicle();
    await v.fetcher.poll();
    expect(version(v)).toBe(1);
    const d2 = hub.delta(1, 2, T - 20 * MINUTE, cards(51));
    hub.publish(s1, [d2]);
    const v2Head = hub.headText!;
    const d3 = hub.delta(2, 3, T - 10 * MINUTE, cards(52));
    hub.publish(s1, [d2, d3]);
    // Version 3's head is verified, but the link drops in its first file: version 1 is still held.
    hub.cutNextFileAfter = 1;
    await v.fetcher.poll();
    expect(version(v)).toBe(1);
    expect(v.clock.newest).toBe(T - 10 * MINUTE);
    const fetched = fileRequests().length;

    // Version 2's head, replayed: newer than what is held, older than the head seen. Refused, nothing fetched.
    hub.headText = v2Head;
    await v.fetcher.poll();
    expect(refused(v, 'replayed')).toBe(1);
    expect(fileRequests()).toHaveLength(fetched);
    expect(version(v)).toBe(1);

    hub.publish(s1, [d2, d3]);
    await v.fetcher.poll();
    expect(version(v)).toBe(3);

    // Older than the version held.
    hub.headText = v1Head;
    await v.fetcher.poll();
    expect(refused(v, 'replayed')).toBe(2);
    expect(fileRequests()).toHaveLength(fetched + 2);
    expect(version(v)).toBe(3);
  });

  it('after a restart, decides offline from the files on disk at once', async () => {
    const s1 = hub.snapshot(1, T - 20 * MINUTE, cards(50));
    const d2 = hub.delta(1, 2, T - 10 * MINUTE, cards(50, { [CARD]: risky }));
    hub.publish(s1, [d2]);
    const first = await vehicle();
    await first.fetcher.poll();
    await first.close();
    open.splice(open.indexOf(first), 1);
    await hub.stop();
    const again = await vehicle({ now: T - 3 * 3_600_000 });
    expect(version(again)).toBe(2);
    expect(again.list.lookup(CARD)).toMatchObject({ outcome: { record: { status: 'RISKY' } } });
    // The signed time came back from disk too: a clock set back is still not trusted.
    expect(again.clock.now()).toBe(T - 10 * MINUTE);
    await again.fetcher.poll();
    expect(again.links.at(-1)).toMatchObject({ state: 'unreachable' });
    expect(version(again)).toBe(2);
  });

  it('says the hub refused its token once, not per poll', async () => {
    const s1 = hub.snapshot(1, T - 20 * MINUTE, cards(50));
    hub.publish(s1, []);
    hub.headStatus = 403;
    const v = await vehicle();
    await v.fetcher.poll();
    await v.fetcher.poll();
    await v.fetcher.poll();
    expect(v.links).toEqual([{ state: 'revoked', previous: 'starting', detail: '403' }]);
    expect(version(v)).toBeNull();
  });
});
