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
 *
 * Change rate (docs/vehicles.md, sizing): 1 % of 8M bound cards a day = 80,000 changed cards,
 * a version every 5 min (288 a day) ≈ 278 changed cards per delta.
 *
 * Run alone: `npm run build && npm run bench:build && node dist/bench/vehicle-catchup.js [--quick]`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
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

export async function benchVehicleCatchup(o: BenchOptions): Promise<FigureReport> {
  const t0 = performance.now();
  const root = mkdtempSync(join(tmpdir(), 'hes-gate-bench-lists-'));
  const nginx = await Nginx.start({ root });
  const proxy = await LinkProxy.start({ target: { port: nginx.port } });
  // A bucket of one segment: a small delta does not slip through at memory speed.
  proxy.throttle(LINK_BITS_PER_SECOND, SEGMENT);
  proxy.delay(ONE_WAY_DELAY_MS);
  const rows: Row[] = [];
  const details: Record<string, unknown> = {
    cards: CARDS, changesPerDay: CHANGES_PER_DAY, stepsPerDay: STEPS_PER_DAY, deltaBytes, headBytes: HEAD_BYTES,
    linkBitsPerSecond: LINK_BITS_PER_SECOND, oneWayDelayMs: ONE_WAY_DELAY_MS, outageMs: OUTAGE_MS, outageEveryMs: OUTAGE_EVERY_MS, retryMs: RETRY_MS,
    runs: [] as unknown[],
  };
  try {
    for (const s of scenarios(o.quick)) {
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
  return { name: 'vehicle-catchup', rows, details, durationMs: performance.now() - t0 };
}

if (isMain(import.meta.url)) runAlone(benchVehicleCatchup);
