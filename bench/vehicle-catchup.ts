/**
 * Issue 23: bytes and time for a vehicle to catch up after 1 hour and after 1 day offline, and
 * over a 1 Mbit/s link with 10 s outages. The static server is a real nginx
 * (test/vehicles/nginx.ts); the link is the vehicles' test proxy (test/vehicles/link-proxy.ts),
 * shaped to 1 Mbit/s each way with a 50 ms one-way delay (a 100 ms cellular round trip). Both are
 * imported from test/ as bench/city.ts imports test/city/redis-harness.ts: one harness, and the
 * rule that holds is the other way round (no test imports from bench/, test/packaging/bench-apart.test.ts).
 *
 *   link   the link alone: list files of the sizes the format's targets give (a delta ≤ 16 B per
 *          changed card plus ≈ 0.5 KB of header and signature; a snapshot ≤ 4 B per card) at the
 *          stated change rate, fetched one after another as the vehicle's fetcher does, resumed
 *          with Range after each cut, retried every second while the link is down. What the
 *          link costs before the hub's and the vehicle's own work.
 *   vehicle the real thing: a hub's publisher (its builder worker, a real card store) writes a version
 *          every 5 min of an injected clock into the directory nginx serves, 278 cards changing per
 *          version (80,000 a day: 1 % of 8M); a vehicle's real list fetcher and list worker,
 *          polling through the same shaped link, catch up after 1 hour (12 versions) and after 1
 *          day (288 versions) offline, and past the newest snapshot. The head is the publisher's
 *          signed text (`?after=V` trimmed by the publisher, as the hub's route does), served by a
 *          plain HTTP server. Snapshots every 6 h, 5 kept (the defaults).
 *          The city is smaller than 8M (fingerprints ≈ 6 bits shorter than 8M's: ≈ 0.75 B less
 *          per changed card); a delta's size follows the changed cards, not the city's size.
 *
 * Change rate (docs/vehicles.md, sizing): 1 % of 8M bound cards a day = 80,000 changed cards,
 * a version every 5 min (288 a day) ≈ 278 changed cards per delta.
 *
 * Run alone: `npm run build && npm run bench:build && node dist/bench/vehicle-catchup.js [--quick]`.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openCardStore } from '../src/cards/store.js';
import { NodeKey } from '../src/city/identity/node-key.js';
import { createLogger } from '../src/ops/logger.js';
import type { Timers } from '../src/types.js';
import { startListBuilder } from '../src/vehicles/hub/list-builder.js';
import { VehiclePublisher } from '../src/vehicles/hub/publisher.js';
import { ListKey, openHead, signHead } from '../src/vehicles/list/index.js';
import { CardList } from '../src/vehicles/vehicle/card-list.js';
import { hubAgent } from '../src/vehicles/vehicle/hub-http.js';
import { ListFetcher } from '../src/vehicles/vehicle/list-fetcher.js';
import { ListWorkerClient } from '../src/vehicles/vehicle/list-worker-client.js';
import { SignedClock } from '../src/vehicles/vehicle/signed-clock.js';
import { LinkProxy, SEGMENT } from '../test/vehicles/link-proxy.js';
import { Nginx } from '../test/vehicles/nginx.js';
import { isMain, runAlone, type BenchOptions, type FigureReport, type Row } from './report.js';

const CARDS = 8_000_000;
const CHANGES_PER_DAY = CARDS / 100;
const STEPS_PER_DAY = 288;
const DELTA_FIXED_BYTES = 512;
const DELTA_BYTES_PER_CARD = 16;
const SNAPSHOT_BYTES_PER_CARD = 4;
/** The head names a snapshot and up to 72 deltas, ≈ 110 B each (docs/vehicles.md). */
const HEAD_BYTES = 4096;
const LINK_BITS_PER_SECOND = 1_000_000;
const ONE_WAY_DELAY_MS = 50;
const OUTAGE_MS = 10_000;
const OUTAGE_EVERY_MS = 60_000;
/** The first outage starts this long into a catch-up, so even the short ones meet one. */
const FIRST_OUTAGE_MS = 500;
const RETRY_MS = 1000;

interface Scenario {
  name: string;
  files: Buffer[];
}

const deltaBytes = Math.round(DELTA_FIXED_BYTES + (CHANGES_PER_DAY / STEPS_PER_DAY) * DELTA_BYTES_PER_CARD);

function scenarios(quick: boolean): Scenario[] {
  const delta = (): Buffer => randomBytes(deltaBytes);
  const snapshotCards = quick ? 1_000_000 : CARDS;
  return [
    { name: '1 hour offline: head + 12 deltas', files: [randomBytes(HEAD_BYTES), ...Array.from({ length: 12 }, delta)] },
    { name: '1 day offline, by deltas: head + 288 deltas', files: [randomBytes(HEAD_BYTES), ...Array.from({ length: STEPS_PER_DAY }, delta)] },
    {
      name: `past the snapshot: head + snapshot of ${(snapshotCards / 1e6).toFixed(0)}M cards (${SNAPSHOT_BYTES_PER_CARD} B each)`,
      files: [randomBytes(HEAD_BYTES), randomBytes(snapshotCards * SNAPSHOT_BYTES_PER_CARD)],
    },
  ];
}

const nameOf = (b: Buffer): string => `${createHash('sha256').update(b).digest('hex')}.hgvl`;

interface Fetched {
  ms: number;
  wireBytes: number;
  payloadBytes: number;
  requests: number;
  resumed: number;
  outages: number;
}

/** Fetch one file to the end, resuming with Range after a cut; retry every RETRY_MS while the link is down. */
async function fetchResuming(url: string, expected: string, counters: { requests: number; resumed: number }): Promise<void> {
  const parts: Buffer[] = [];
  let have = 0;
  for (;;) {
    counters.requests++;
    if (have > 0) counters.resumed++;
    try {
      const res = await fetch(url, have > 0 ? { headers: { range: `bytes=${have}-` } } : {});
      if (res.status !== (have > 0 ? 206 : 200)) throw new Error(`HTTP ${res.status}`);
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(Buffer.from(value));
        have += value.length;
      }
      const got = createHash('sha256').update(Buffer.concat(parts)).digest('hex');
      if (`${got}.hgvl` !== expected) throw new Error(`digest mismatch for ${expected}`);
      return;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('digest mismatch')) throw err;
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}

async function catchUp(proxy: LinkProxy, names: readonly string[], outages: boolean): Promise<Fetched> {
  const before = proxy.bytes.up + proxy.bytes.down;
  const counters = { requests: 0, resumed: 0 };
  let cuts = 0;
  let timer: NodeJS.Timeout | null = null;
  // Outages on the real clock: 10 s down, then up until the next minute's.
  const schedule = (inMs: number): void => {
    timer = setTimeout(() => {
      cuts++;
      proxy.linkDown();
      timer = setTimeout(() => {
        proxy.linkUp();
        schedule(OUTAGE_EVERY_MS - OUTAGE_MS);
      }, OUTAGE_MS);
    }, inMs);
  };
  const t0 = performance.now();
  if (outages) schedule(FIRST_OUTAGE_MS);
  try {
    for (const name of names) await fetchResuming(`${proxy.url}/${name}`, name, counters);
  } finally {
    if (timer !== null) clearTimeout(timer);
    proxy.linkUp();
  }
  return { ms: performance.now() - t0, wireBytes: proxy.bytes.up + proxy.bytes.down - before, payloadBytes: 0, requests: counters.requests, resumed: counters.resumed, outages: cuts };
}

const mb = (b: number): string => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;


const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Changed cards per 5-minute version: 80,000 a day (1 % of 8M) over 288 versions. */
const CHANGES_PER_STEP = Math.round(CHANGES_PER_DAY / STEPS_PER_DAY);
const never: Timers = { setTimeout: () => 0, clearTimeout: () => undefined };
const cardOf = (i: number): string => `04${i.toString(16).toUpperCase().padStart(12, '0')}`;
const codeOf = (i: number): string => `H${i.toString(36).toUpperCase().padStart(9, '0')}`;

/** Outages on the real clock while `run` goes: 10 s down after FIRST_OUTAGE_MS, then every minute. */
async function withOutages<T>(proxies: readonly LinkProxy[], on: boolean, run: () => Promise<T>): Promise<{ value: T; outages: number }> {
  let cuts = 0;
  let timer: NodeJS.Timeout | null = null;
  const schedule = (inMs: number): void => {
    timer = setTimeout(() => {
      cuts++;
      for (const p of proxies) p.linkDown();
      timer = setTimeout(() => {
        for (const p of proxies) p.linkUp();
        schedule(OUTAGE_EVERY_MS - OUTAGE_MS);
      }, OUTAGE_MS);
    }, inMs);
  };
  if (on) schedule(FIRST_OUTAGE_MS);
  try {
    return { value: await run(), outages: cuts };
  } finally {
    if (timer !== null) clearTimeout(timer);
    for (const p of proxies) p.linkUp();
  }
}

/** The hub's publisher and a vehicle's fetcher, end to end over the shaped link. */
async function benchVehicle(quick: boolean, rows: Row[], details: Record<string, unknown>): Promise<void> {
  // A vehicle takes the lighter route: a day of deltas (≈ 420 kB here) against the snapshot and
  // its deltas. At 200,000 cards the snapshot (≈ 600 kB) is heavier, as at 8M (≈ 24 MB); the
  // --quick city's (≈ 60 kB) is not, so its day is caught up by the snapshot (the row says which).
  const N = quick ? 20_000 : 200_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'hes-gate-bench-vhub-'));
  const vehicleDir = mkdtempSync(join(tmpdir(), 'hes-gate-bench-vehicle-'));
  const publishDir = join(dataDir, 'vehicle-lists');
  mkdirSync(publishDir);
  const listKeyFile = join(dataDir, 'list-key');
  const signingKeyFile = join(dataDir, 'signing-key.pem');
  writeFileSync(listKeyFile, ListKey.generate('vl-bench'), { mode: 0o600 });
  const { pem } = NodeKey.generate();
  writeFileSync(signingKeyFile, pem, { mode: 0o600 });
  const listKey = ListKey.parse(readFileSync(listKeyFile, 'utf8'));
  const T0 = Date.UTC(2026, 11, 8, 5);
  let now = T0;
  const store = openCardStore({ dataDir });
  const risky = new Set<number>();
  for (let i = 0; i < N; i += 5000) {
    const n = Math.min(5000, N - i);
    store.putBindings(Array.from({ length: n }, (_, k) => ({ cardId: cardOf(i + k), hesCode: codeOf(i + k), profile: (i + k) % 5 === 0 ? 'student' : 'standard' })));
    store.saveStatuses(Array.from({ length: n }, (_, k) => ({ code: codeOf(i + k), record: { status: 'RISKLESS' as const, expiresAt: T0 + 30 * 24 * HOUR, fetchedAt: T0 } })));
  }
  let seq = 0;
  const change = (): void => {
    const items = [];
    for (let k = 0; k < CHANGES_PER_STEP; k++) {
      const i = (seq++ * 7919) % N;
      const toRisky = !risky.has(i);
      if (toRisky) risky.add(i);
      else risky.delete(i);
      items.push({ code: codeOf(i), record: { status: toRisky ? ('RISKY' as const) : ('RISKLESS' as const), expiresAt: T0 + 30 * 24 * HOUR, fetchedAt: now } });
    }
    store.saveStatuses(items);
  };
  const signer = createPrivateKey(pem);
  const publisher = new VehiclePublisher({
    publishDir,
    headFile: join(dataDir, 'vehicle-head.json'),
    restored: null,
    publishEveryMs: 5 * MINUTE,
    // The defaults: a snapshot every 6 h, 5 kept (30 h of deltas: a day offline catches up by deltas).
    snapshotEveryMs: 6 * HOUR,
    keepSnapshots: 5,
    horizonMs: 48 * HOUR,
    startBuilder: () => startListBuilder({ dataDir, listKeyFile, signingKeyFile, publishDir }),
    signHead: (head) => signHead(head, signer),
    clock: () => now,
    timers: never,
    logger: createLogger('silent'),
  });
  // The hub's refresher re-confirms every bound code in a rotation; a RISKLESS not re-confirmed for
  // a day is listed `unknown`. On this clock the bench re-confirms them (unchanged) every 12 hours.
  let confirmedAt = T0;
  const confirmAll = (): void => {
    for (let i = 0; i < N; i += 5000) {
      store.saveStatuses(Array.from({ length: Math.min(5000, N - i) }, (_, k) => ({ code: codeOf(i + k), record: { status: risky.has(i + k) ? ('RISKY' as const) : ('RISKLESS' as const), expiresAt: T0 + 30 * 24 * HOUR, fetchedAt: now } })));
    }
    confirmedAt = now;
  };
  const steps = async (k: number): Promise<void> => {
    for (let s = 0; s < k; s++) {
      if (now - confirmedAt >= 12 * HOUR) confirmAll();
      change();
      now += 5 * MINUTE;
      const out = await publisher.step();
      if (out !== 'published') throw new Error(`the publisher's step was ${out}`);
    }
  };
  // As the hub's route answers: `?after=V` names only the deltas from the version the vehicle holds.
  const headServer = createServer((req, res) => {
    const after = new URL(req.url ?? '/', 'http://x').searchParams.get('after');
    const text = after === null ? publisher.headText() : publisher.headFor(Number(after));
    if (text === null) res.writeHead(503).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  });
  await new Promise<void>((r) => headServer.listen(0, '127.0.0.1', r));
  const nginx = await Nginx.start({ root: publishDir });
  const files = await LinkProxy.start({ target: { port: nginx.port } });
  const head = await LinkProxy.start({ target: { port: (headServer.address() as { port: number }).port } });
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  const signed = new SignedClock(() => now);
  const list = new CardList({ fingerprint: (id, bits) => listKey.fingerprint(id, bits), clock: signed.now, maxListAgeMs: 6 * HOUR });
  const worker = new ListWorkerClient({ dir: vehicleDir, publicKey: Buffer.from(jwk.x!, 'base64url').toString('base64'), keyId: listKey.keyId });
  const agent = hubAgent({ connectTimeoutMs: 5000, headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 });
  const fetcher = new ListFetcher({ headUrl: `${head.url}/v1/vehicle-list/head`, filesUrl: `${files.url}/`, token: () => 'bench', dir: vehicleDir, worker, list, clock: signed, pollMs: 60_000, dispatcher: agent, timers: never });
  const runs: unknown[] = [];
  details['vehicle'] = { cards: N, changesPerStep: CHANGES_PER_STEP, runs };
  try {
    await publisher.lead(1);
    await steps(1);
    await fetcher.start();
    await fetcher.poll();
    files.throttle(LINK_BITS_PER_SECOND, SEGMENT);
    head.throttle(LINK_BITS_PER_SECOND, SEGMENT);
    files.delay(ONE_WAY_DELAY_MS);
    head.delay(ONE_WAY_DELAY_MS);

    /** Poll until the vehicle holds the head's version, again every RETRY_MS while the link is down. */
    const catchUp = async (name: string, outages: boolean): Promise<void> => {
      const target = openHead(publisher.headText()!, createPublicKey(pem), listKey.keyId);
      const mark = nginx.requests().length;
      const wire0 = files.bytes.up + files.bytes.down + head.bytes.up + head.bytes.down;
      const t0 = performance.now();
      let polls = 0;
      const { outages: cuts } = await withOutages([files, head], outages, async () => {
        for (;;) {
          polls++;
          await fetcher.poll();
          if (fetcher.report().version === target.version) return;
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      });
      const ms = performance.now() - t0;
      const wire = files.bytes.up + files.bytes.down + head.bytes.up + head.bytes.down - wire0;
      const fetched = nginx.requests().slice(mark);
      const sizes = new Map([target.snapshot, ...target.deltas].map((f) => [`/${f.name}`, f.bytes]));
      const names = new Set(fetched.map((r) => r.uri));
      const payload = [...names].reduce((n, u) => n + (sizes.get(u) ?? 0), 0);
      const snapshot = names.has(`/${target.snapshot.name}`);
      runs.push({ name, outages, ms, wire, payload, files: names.size, requests: fetched.length, resumed: fetched.filter((r) => r.status === 206).length, snapshot, outagesSeen: cuts, polls });
      rows.push({
        figure: `vehicle catch-up, hub to vehicle: ${name}, 1 Mbit/s, 100 ms RTT${outages ? ', 10 s outage every 60 s' : ''} (${N.toLocaleString('en-US')} cards, ${CHANGES_PER_STEP} changed a version)`,
        baseline: `${names.size} files${snapshot ? ' (snapshot)' : ''}, ${mb(payload)}`,
        measured: `${secs(ms)}, ${mb(wire)} on the wire, ${fetched.length} file requests (${fetched.filter((r) => r.status === 206).length} resumed), ${polls} polls, ${cuts} outages`,
        target: '—',
        met: null,
      });
    };

    for (const outages of [false, true]) {
      await steps(12);
      await catchUp('1 hour offline (12 versions)', outages);
    }
    for (const outages of [false, true]) {
      await steps(STEPS_PER_DAY);
      await catchUp('1 day offline (288 versions)', outages);
    }
    for (const outages of [false, true]) {
      // A new chain (as after a hub takes over the lease): the vehicle is past the newest snapshot.
      await publisher.standBy();
      await publisher.lead(outages ? 3 : 2);
      await steps(1);
      await catchUp('past the newest snapshot', outages);
    }
  } finally {
    await fetcher.stop();
    await worker.close();
    await agent.close();
    await publisher.standBy();
    await files.close();
    await head.close();
    headServer.close();
    await nginx.stop();
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(vehicleDir, { recursive: true, force: true });
  }
}

export async function benchVehicleCatchup(o: BenchOptions): Promise<FigureReport> {
  const t0 = performance.now();
  // BENCH_CATCHUP=link or =vehicle runs one part only (the whole figure takes many minutes).
  const part = process.env['BENCH_CATCHUP'] ?? 'all';
  const rows: Row[] = [];
  const details: Record<string, unknown> = {
    cards: CARDS, changesPerDay: CHANGES_PER_DAY, stepsPerDay: STEPS_PER_DAY, deltaBytes, headBytes: HEAD_BYTES,
    linkBitsPerSecond: LINK_BITS_PER_SECOND, oneWayDelayMs: ONE_WAY_DELAY_MS, outageMs: OUTAGE_MS, outageEveryMs: OUTAGE_EVERY_MS, retryMs: RETRY_MS,
    runs: [] as unknown[],
  };
  if (part !== 'vehicle') await benchLink(o.quick, rows, details);
  if (part !== 'link') await benchVehicle(o.quick, rows, details);
  return { name: 'vehicle-catchup', rows, details, durationMs: performance.now() - t0 };
}

/** The link alone, with files of the target sizes. */
async function benchLink(quick: boolean, rows: Row[], details: Record<string, unknown>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'hes-gate-bench-lists-'));
  const nginx = await Nginx.start({ root });
  const proxy = await LinkProxy.start({ target: { port: nginx.port } });
  // A bucket of one segment: a small delta does not slip through at memory speed.
  proxy.throttle(LINK_BITS_PER_SECOND, SEGMENT);
  proxy.delay(ONE_WAY_DELAY_MS);
  try {
    for (const s of scenarios(quick)) {
      const names = s.files.map((f) => {
        const n = nameOf(f);
        writeFileSync(join(root, n), f);
        return n;
      });
      const payload = s.files.reduce((n, f) => n + f.length, 0);
      // What the link alone should take: payload bits at the shaped rate, plus a round trip per request.
      const estimateMs = (payload * 8 * 1000) / LINK_BITS_PER_SECOND + names.length * 2 * ONE_WAY_DELAY_MS;
      for (const outages of [false, true]) {
        const r = await catchUp(proxy, names, outages);
        r.payloadBytes = payload;
        (details['runs'] as unknown[]).push({ scenario: s.name, withOutages: outages, estimateMs, ...r });
        rows.push({
          figure: `vehicle catch-up, link only: ${s.name}, 1 Mbit/s, 100 ms RTT${outages ? ', 10 s outage every 60 s' : ''}`,
          baseline: `payload ${mb(payload)}, estimate ${secs(estimateMs)}`,
          measured: `${secs(r.ms)}, ${mb(r.wireBytes)} on the wire, ${r.requests} requests (${r.resumed} resumed, ${r.outages} outages)`,
          target: '—',
          met: null,
        });
      }
    }
  } finally {
    await proxy.close();
    await nginx.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) runAlone(benchVehicleCatchup);
