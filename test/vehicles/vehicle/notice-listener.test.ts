/**
 * The vehicle's side of the push notice, against a real mosquitto, a real HTTP hub serving real
 * signed list files, the real list worker and the hub's real notice publisher: a vehicle polling
 * once an hour holds a new version within moments of its notice; a forged notice costs one
 * verified head poll and nothing else; a flood of notices makes at most one poll per gap; notices
 * that are not notices, or of a version held, make none. Waits are on the fetcher's and the
 * gate's events; the gate's rate-limit timer and clock are the test's where counts matter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Agent } from 'undici';
import type { Timers } from '../../../src/types.js';
import { VehicleNotices } from '../../../src/vehicles/hub/notices.js';
import type { EntryValue, RefusalReason } from '../../../src/vehicles/list/types.js';
import { CardList } from '../../../src/vehicles/vehicle/card-list.js';
import { hubAgent } from '../../../src/vehicles/vehicle/hub-http.js';
import { ListFetcher } from '../../../src/vehicles/vehicle/list-fetcher.js';
import { ListWorkerClient } from '../../../src/vehicles/vehicle/list-worker-client.js';
import { NoticeListener, type NoticeGateOptions } from '../../../src/vehicles/vehicle/notice-listener.js';
import type { NoticeTaken } from '../../../src/vehicles/vehicle/on-board-types.js';
import { SignedClock } from '../../../src/vehicles/vehicle/signed-clock.js';
import { hasMosquitto, Mosquitto } from '../mosquitto.js';
import { ListHub, TOKEN } from './list-hub.js';

const TOPIC = 'hes-gate/vehicle-list';
const HOUR = 3_600_000;
const GAP = 10_000;
const silent = pino({ level: 'silent' });
const pass: EntryValue = { cls: 'pass', validUntil: null, profile: 'standard' };

function cards(n: number): Record<string, EntryValue> {
  const out: Record<string, EntryValue> = {};
  for (let i = 1; i <= n; i++) out[`04${i.toString(16).toUpperCase().padStart(8, '0')}`] = pass;
  return out;
}

/** Timers the test fires by hand. */
function handTimers(): Timers & { pending: Array<{ fn: () => void; ms: number }>; fire(): void } {
  const pending: Array<{ fn: () => void; ms: number }> = [];
  return {
    pending,
    setTimeout: (fn, ms) => pending.push({ fn, ms }),
    clearTimeout: () => undefined,
    fire: () => {
      for (const t of pending.splice(0)) t.fn();
    },
  };
}

/** Resolves when `check` holds, tested now and after each event `on` reports. */
function until(on: (listener: () => void) => void, check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`${what}: not within ${timeoutMs} ms`));
    }, timeoutMs);
    const test = (): void => {
      if (!done && check()) {
        done = true;
        clearTimeout(timer);
        resolve();
      }
    };
    on(() => test());
    test();
  });
}

describe.skipIf(!hasMosquitto)('the vehicle\'s push notice', () => {
  let dir: string;
  let hub: ListHub;
  let agent: Agent;
  let broker: Mosquitto;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hg-vnotice-'));
    hub = new ListHub();
    await hub.start();
    agent = hubAgent();
    broker = await Mosquitto.start();
  });

  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await agent.close();
    await hub.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  interface Vehicle {
    fetcher: ListFetcher;
    listener: NoticeListener;
    list: CardList;
    refusals: RefusalReason[];
    /** Listeners of the fetcher's events (a version taken, a poll ended) and of notices taken. */
    onEvent: Array<() => void>;
    taken: NoticeTaken[];
    /** Polls ended. */
    polls: () => number;
  }

  /** A vehicle that polls once an hour (its first poll at start), subscribed to the broker. */
  async function vehicle(gate: Partial<NoticeGateOptions> = {}): Promise<Vehicle> {
    const clock = new SignedClock(Date.now);
    const list = new CardList({ fingerprint: (id, bits) => hub.key.fingerprint(id, bits), clock: clock.now, maxListAgeMs: 6 * HOUR });
    const worker = new ListWorkerClient({ dir, publicKey: hub.signer.publicKey, keyId: hub.key.keyId });
    const onEvent: Array<() => void> = [];
    const tell = (): void => onEvent.forEach((f) => f());
    const refusals: RefusalReason[] = [];
    let polls = 0;
    const fetcher = new ListFetcher({
      headUrl: hub.headUrl,
      filesUrl: `${hub.url}/v1/vehicle-list/files/`,
      token: () => TOKEN,
      dir,
      worker,
      list,
      clock,
      pollMs: HOUR,
      dispatcher: agent,
      onRefused: (r) => refusals.push(r),
      onVersion: tell,
      onPoll: () => {
        polls++;
        tell();
      },
    });
    const taken: NoticeTaken[] = [];
    const listener = await NoticeListener.open({
      url: broker.url,
      topic: TOPIC,
      user: null,
      password: null,
      clientIdPrefix: 'hes-gate-vehicle-bus-34',
      logger: silent,
      held: () => list.held?.version ?? null,
      poll: () => fetcher.pollFresh(),
      minPollGapMs: GAP,
      onTaken: (t) => {
        taken.push(t);
        tell();
      },
      ...gate,
    });
    closers.push(async () => {
      await listener.close();
      await fetcher.stop();
      await worker.close();
    });
    await fetcher.start();
    return { fetcher, listener, list, refusals, onEvent, taken, polls: () => polls };
  }

  const on = (v: Vehicle) => (f: () => void) => v.onEvent.push(f);
  const headPolls = (): number => hub.requests.filter((r) => r.url.startsWith('/v1/vehicle-list/head')).length;

  async function publisher(): Promise<MqttClient> {
    const c = await connectAsync(broker.url, { reconnectPeriod: 0 });
    closers.push(() => c.endAsync());
    return c;
  }

  it('a vehicle polling once an hour holds a new version within moments of its notice', async () => {
    const s1 = hub.snapshot(1, Date.now() - 60_000, cards(200));
    hub.publish(s1, []);
    const v = await vehicle();
    await until(on(v), () => v.list.held?.version === 1 && v.listener.report().connected, 'version 1 and the broker');
    const notices = await VehicleNotices.open({ url: broker.url, topic: TOPIC, user: null, password: null, clientIdPrefix: 'hes-gate-hub-a', logger: silent });
    closers.push(() => notices.close());
    await vi.waitFor(() => expect(notices.report().connected).toBe(true), { timeout: 10_000, interval: 10 });

    const issuedAt = Date.now();
    const d2 = hub.delta(1, 2, issuedAt, cards(201));
    hub.publish(s1, [d2]);
    const t0 = performance.now();
    notices.notify({ version: 2, issuedAt });
    await until(on(v), () => v.list.held?.version === 2, 'version 2');
    const ms = performance.now() - t0;
    console.log(`notice to version held: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(5000);
    expect(v.listener.report()).toMatchObject({ taken: { poll: 1, coalesced: 0, stale: 0, malformed: 0 }, polls: 1 });
    expect(v.refusals).toEqual([]);
  });

  it('a forged notice costs one verified head poll, a flood at most one poll per gap, malformed and stale notices none', async () => {
    const s1 = hub.snapshot(5, Date.now() - 60_000, cards(100));
    hub.publish(s1, []);
    const timers = handTimers();
    let now = 1_000_000;
    const v = await vehicle({ timers, now: () => now });
    await until(on(v), () => v.list.held?.version === 5 && v.listener.report().connected, 'version 5 and the broker');
    const pub = await publisher();
    const polls0 = headPolls();
    const ended0 = v.polls();

    // Forged: a version far past any: one poll of the signed head, which says 5 is current.
    await pub.publishAsync(TOPIC, JSON.stringify({ version: Number.MAX_SAFE_INTEGER, issuedAt: Date.now() }), { qos: 1 });
    await until(on(v), () => v.polls() === ended0 + 1, 'the forged notice\'s poll');
    expect(headPolls() - polls0).toBe(1);
    expect(v.taken).toEqual(['poll']);
    expect(v.list.held?.version).toBe(5);
    expect(v.refusals).toEqual([]);

    // Not notices, and a version held: dropped, no poll, no timer.
    for (const payload of ['garbage', '{"version":"9","issuedAt":1}', '{"version":9}', '{"version":9,"issuedAt":1,"cards":["0400000001"]}', '[9,1]', JSON.stringify({ version: 9, issuedAt: 1, pad: 'x'.repeat(300) }), '{"version":5,"issuedAt":1}', '{"version":3,"issuedAt":1}']) {
      await pub.publishAsync(TOPIC, payload, { qos: 1 });
    }
    await until(on(v), () => v.taken.length === 9, 'eight more notices');
    expect(v.taken.slice(1)).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'stale', 'stale']);
    expect(timers.pending).toHaveLength(0);

    // A flood within the gap: one poll waits for its end, every notice joins it.
    now += 1000;
    for (let i = 0; i < 50; i++) await pub.publishAsync(TOPIC, JSON.stringify({ version: 6 + i, issuedAt: Date.now() }), { qos: 1 });
    await until(on(v), () => v.taken.length === 59, 'the flood');
    expect(v.taken.slice(9).every((t) => t === 'coalesced')).toBe(true);
    expect(timers.pending.map((t) => t.ms)).toEqual([GAP - 1000]);
    expect(headPolls() - polls0).toBe(1);

    // The gap ends: one poll for all fifty; the head still says 5.
    now += GAP;
    timers.fire();
    await until(on(v), () => v.polls() === ended0 + 2, 'the poll at the end of the gap');
    expect(headPolls() - polls0).toBe(2);
    expect(v.list.held?.version).toBe(5);
    expect(v.listener.report()).toMatchObject({ taken: { poll: 1, coalesced: 50, stale: 2, malformed: 6 }, polls: 2 });
    expect(v.refusals).toEqual([]);
  });
});
