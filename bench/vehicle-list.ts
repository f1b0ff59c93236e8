/**
 * The vehicle list's figures (issue 23), pure computation in this process:
 *
 *   size        a snapshot's bytes per bound card for 1M and 8M cards (--quick: 100k and 1M)
 *   delta       a delta's bytes per changed card: 10,000 changes of a 1M list (3,000 cards unbound,
 *               3,000 bound, 4,000 with another value)
 *   build       the hub's work for 1M cards from their ids: fingerprint, sort, encode, sign
 *   decode      the vehicle's work for a 1M snapshot: verify, decode, digest (openFile)
 *   lookup      a tap on board: lookup() of a fingerprint in the 1M state, in batches of 100
 *               (baseline: Map.get over the same entries); and fingerprint + lookup, one tap timed alone
 *   false pass  10^7 card ids not on the list (10^6 with --quick) looked up in the 1M list
 *
 * The value mix (issue 23): 1 % of passes end within the horizon (a minute of the next 48 h),
 * 0.5 % risky, 0.5 % expired, 1 % unknown, the rest passes without an end; profiles standard,
 * student and senior 80 / 15 / 5 %. Card ids are 7-byte UIDs, made as the fingerprint loop runs.
 *
 * Run alone: `npm run build && npm run bench:build && node dist/bench/vehicle-list.js [--quick]`.
 */
import { createHmac, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EntryValue, ListEntry, ListState } from '../src/vehicles/list/index.js';
import { advance, bitsFor, buildState, diff, encodeDelta, encodeSnapshot, ListKey, lookup, openFile, signFile, StateBuilder, stateDigest } from '../src/vehicles/list/index.js';
import { isMain, median, percentile, runAlone, type BenchOptions, type FigureReport, type Row } from './report.js';

const HORIZON_MS = 172_800_000;
const ISSUED_AT = Date.UTC(2026, 11, 8);
const KEY_SECRET = randomBytes(32);
const KEY = ListKey.parse(`bench:${KEY_SECRET.toString('base64')}`);
const HUB = generateKeyPairSync('ed25519');
const META = { keyId: 'bench', version: 1, issuedAt: ISSUED_AT, horizonMs: HORIZON_MS };

const cardId = (i: number): string => `04${i.toString(16).toUpperCase().padStart(12, '0')}`;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;
const thousands = (n: number): string => n.toLocaleString('en-US');

/** mulberry32: a seeded generator, so every run lists the same mix. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The issue's value mix; the common values are shared objects, as a hub's would be. */
function valueMix(seed: number): () => EntryValue {
  const rnd = random(seed);
  const profiles = ['standard', 'student', 'senior'];
  const shared = new Map<string, EntryValue>();
  const of = (cls: EntryValue['cls'], profile: string): EntryValue => {
    const k = `${cls}/${profile}`;
    let v = shared.get(k);
    if (v === undefined) shared.set(k, (v = { cls, validUntil: null, profile }));
    return v;
  };
  return () => {
    const r = rnd();
    const p = rnd();
    const profile = profiles[p < 0.8 ? 0 : p < 0.95 ? 1 : 2]!;
    if (r < 0.005) return of('risky', profile);
    if (r < 0.01) return of('expired', profile);
    if (r < 0.02) return of('unknown', profile);
    if (r < 0.03) return { cls: 'pass', validUntil: ISSUED_AT + Math.floor(rnd() * 2880) * 60_000, profile };
    return of('pass', profile);
  };
}

interface City {
  n: number;
  bits: number;
  values: EntryValue[];
}

function city(n: number): City {
  const next = valueMix(n);
  return { n, bits: bitsFor(n), values: Array.from({ length: n }, next) };
}

/** CPU time of this process (all threads) in ms: the machine is shared, so wall time is reported with it. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The hub's build from card ids (as its store hands them, one row at a time), timed by stage. */
function hubBuild(c: City): { file: Buffer; state: ListState; cpuMs: number; ms: { fingerprint: number; sort: number; encode: number; sign: number } } {
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const builder = new StateBuilder(c.bits);
  for (let i = 0; i < c.n; i++) builder.add(KEY.fingerprint(cardId(i), c.bits), c.values[i]!);
  const t1 = performance.now();
  const state = builder.build();
  const t2 = performance.now();
  const unsigned = encodeSnapshot(state, META);
  const t3 = performance.now();
  const file = signFile(unsigned, HUB.privateKey);
  const t4 = performance.now();
  return { file, state, cpuMs: cpuMs() - cpu0, ms: { fingerprint: t1 - t0, sort: t2 - t1, encode: t3 - t2, sign: t4 - t3 } };
}

/** ns per fingerprint of `n` card ids: the key's own HMAC, and createHmac under the same derived key (the baseline). */
function fingerprintCost(n: number): { ours: number; createHmac: number } {
  const mac = Buffer.from(hkdfSync('sha256', KEY_SECRET, Buffer.from('hes-gate list key'), Buffer.from('vehicle-list'), 32));
  const ours: number[] = [];
  const base: number[] = [];
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    let t = performance.now();
    for (let i = 0; i < n; i++) sink += KEY.fingerprint(cardId(i), 41);
    ours.push(((performance.now() - t) * 1e6) / n);
    t = performance.now();
    for (let i = 0; i < n; i++) {
      const d = createHmac('sha256', mac).update(`card:${cardId(i)}`).digest();
      sink += d.readUInt32BE(0) * 2 ** 9 + (d.readUInt32BE(4) >>> 23);
    }
    base.push(((performance.now() - t) * 1e6) / n);
  }
  if (sink < 0) console.log(sink);
  return { ours: median(ours), createHmac: median(base) };
}

/** 10,000 changes of a city: cards unbound, newly bound, and with another value. */
function changed(c: City, state: ListState): { next: ListState; changes: number } {
  const rnd = random(7);
  const removed = 3_000;
  const added = 3_000;
  const altered = 4_000;
  const entries: ListEntry[] = [];
  const gone = new Set<number>();
  while (gone.size < removed) gone.add(Math.floor(rnd() * c.n));
  const alter = new Set<number>();
  while (alter.size < altered) {
    const i = Math.floor(rnd() * c.n);
    if (!gone.has(i)) alter.add(i);
  }
  const risky: EntryValue = { cls: 'risky', validUntil: null, profile: 'standard' };
  const pass: EntryValue = { cls: 'pass', validUntil: null, profile: 'standard' };
  for (let i = 0; i < c.n; i++) {
    if (gone.has(i)) continue;
    const v = c.values[i]!;
    entries.push({ fp: KEY.fingerprint(cardId(i), c.bits), value: alter.has(i) ? (v.cls === 'pass' ? risky : pass) : v });
  }
  const mix = valueMix(11);
  for (let i = 0; i < added; i++) entries.push({ fp: KEY.fingerprint(cardId(c.n + i), c.bits), value: mix() });
  const next = buildState(c.bits, entries);
  // The measure is the delta's own count of what changed (fingerprint collisions aside, 10,000).
  const d = diff(state, next);
  return { next, changes: d.removed.length + d.upserted.length };
}

/** ns per lookup, per batch of 100 lookups. */
function batches(fps: Float64Array, look: (fp: number) => unknown): number[] {
  const out: number[] = [];
  let sink = 0;
  for (let at = 0; at + 100 <= fps.length; at += 100) {
    const t = process.hrtime.bigint();
    for (let i = at; i < at + 100; i++) if (look(fps[i]!) !== undefined) sink++;
    out.push(Number(process.hrtime.bigint() - t) / 100);
  }
  if (sink < 0) console.log(sink);
  return out.sort((a, b) => a - b);
}

export async function benchVehicleList(o: BenchOptions): Promise<FigureReport> {
  const began = performance.now();
  const N = 1_000_000;
  const LARGE = o.quick ? 100_000 : 8_000_000;
  const ROUNDS = o.quick ? 1 : 3;
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};

  // Build at the hub: 1M, median of ROUNDS.
  const c = city(N);
  const builds = Array.from({ length: ROUNDS }, () => hubBuild(c));
  const build = builds[0]!;
  const totals = builds.map((b) => b.ms.fingerprint + b.ms.sort + b.ms.encode + b.ms.sign);
  const stage = (k: keyof (typeof build)['ms']): number => median(builds.map((b) => b.ms[k]));
  details['build1M'] = { ms: builds.map((b) => b.ms), cpuMs: builds.map((b) => b.cpuMs), bytes: build.file.length };
  console.log(`   1M: ${mb(build.file.length)}, build ${median(totals).toFixed(0)} ms`);
  rows.push({
    figure: `vehicle list: hub build of ${thousands(N)} cards from their ids (fingerprint, sort, encode, sign), median of ${ROUNDS}`,
    baseline: '—',
    measured: `${(median(totals) / 1000).toFixed(2)} s, CPU ${(median(builds.map((b) => b.cpuMs)) / 1000).toFixed(2)} s (fingerprints ${stage('fingerprint').toFixed(0)}, sort and dedupe ${stage('sort').toFixed(0)}, encode ${stage('encode').toFixed(0)}, sign ${stage('sign').toFixed(0)} ms)`,
    target: 'reported',
    met: null,
  });
  const fpCost = fingerprintCost(o.quick ? 100_000 : 300_000);
  details['fingerprintNs'] = fpCost;
  rows.push({
    figure: 'vehicle list: one fingerprint (ListKey.fingerprint: HMAC from kept pads, latin1 digests), median of 5 rounds',
    baseline: `createHmac ${fpCost.createHmac.toFixed(0)} ns`,
    measured: `${fpCost.ours.toFixed(0)} ns (${(fpCost.ours / fpCost.createHmac).toFixed(2)}×)`,
    target: 'reported',
    met: null,
  });

  // Size: 1M and the large city.
  const perCard = (bytes: number, n: number): string => `${(bytes / n).toFixed(3)} B (${mb(bytes)})`;
  const fixedWidth = (bits: number): number => Math.ceil(bits / 8) + 2;
  rows.push({ figure: `vehicle list: snapshot bytes per bound card, ${thousands(N)} cards (${c.bits}-bit fingerprints)`, baseline: `fixed width ${fixedWidth(c.bits)} B`, measured: perCard(build.file.length, N), target: '≤ 4 B', met: build.file.length / N <= 4 });
  {
    const large = city(LARGE);
    const b = hubBuild(large);
    details['buildLarge'] = { n: LARGE, ms: b.ms, cpuMs: b.cpuMs, bytes: b.file.length };
    const total = b.ms.fingerprint + b.ms.sort + b.ms.encode + b.ms.sign;
    console.log(`   ${thousands(LARGE)}: ${mb(b.file.length)}, build ${total.toFixed(0)} ms`);
    rows.push({
      figure: `vehicle list: snapshot bytes per bound card, ${thousands(LARGE)} cards (${large.bits}-bit fingerprints), measured${o.quick ? ' (--quick: not 8M)' : ''}`,
      baseline: `fixed width ${fixedWidth(large.bits)} B`,
      measured: `${perCard(b.file.length, LARGE)}; hub build ${(total / 1000).toFixed(1)} s, CPU ${(b.cpuMs / 1000).toFixed(1)} s (fingerprints ${(b.ms.fingerprint / 1000).toFixed(1)}, sort ${(b.ms.sort / 1000).toFixed(1)}, encode ${(b.ms.encode / 1000).toFixed(1)} s)`,
      target: '≤ 4 B',
      met: b.file.length / LARGE <= 4,
    });
  }

  // Delta: 10,000 changes of the 1M list, and the vehicle applying it.
  const { next, changes } = changed(c, build.state);
  const t0 = performance.now();
  const deltaFile = signFile(encodeDelta(diff(build.state, next), { ...META, version: 2, base: 1, bits: c.bits, count: next.fps.length, stateDigest: stateDigest(next) }), HUB.privateKey);
  const deltaMs = performance.now() - t0;
  const t1 = performance.now();
  const opened = openFile(deltaFile, HUB.publicKey, 'bench');
  if (opened.kind !== 'delta') throw new Error('not a delta');
  const applied = advance(build.state, 1, opened);
  const applyMs = performance.now() - t1;
  if (stateDigest(applied) !== stateDigest(next)) throw new Error('the delta did not lead to the next state');
  details['delta'] = { changes, bytes: deltaFile.length, diffEncodeSignMs: deltaMs, openApplyMs: applyMs };
  rows.push({
    figure: `vehicle list: delta bytes per changed card (${thousands(changes)} changes of ${thousands(N)}, file header and signature included)`,
    baseline: '—',
    measured: `${(deltaFile.length / changes).toFixed(2)} B (${thousands(deltaFile.length)} B); hub diff + encode ${deltaMs.toFixed(0)} ms, vehicle open + apply + digest ${applyMs.toFixed(0)} ms`,
    target: '≤ 16 B',
    met: deltaFile.length / changes <= 16,
  });

  // Decode on board.
  const decodes: number[] = [];
  let state: ListState = build.state;
  for (let r = 0; r < (o.quick ? 3 : 5); r++) {
    const t = performance.now();
    const f = openFile(build.file, HUB.publicKey, 'bench');
    decodes.push(performance.now() - t);
    if (f.kind === 'snapshot') state = f.state;
  }
  details['decodeMs'] = decodes;
  rows.push({ figure: `vehicle list: vehicle opens a ${thousands(N)}-card snapshot (verify, decode, digest), median of ${decodes.length}`, baseline: '—', measured: `${median(decodes).toFixed(0)} ms`, target: 'reported', met: null });

  // Lookup: half listed, half not.
  const rnd = random(3);
  const probes = new Float64Array(o.quick ? 200_000 : 1_000_000);
  for (let i = 0; i < probes.length; i++) probes[i] = i % 2 === 0 ? state.fps[Math.floor(rnd() * state.fps.length)]! : Math.floor(rnd() * 2 ** state.bits);
  const map = new Map<number, EntryValue>();
  for (let i = 0; i < state.fps.length; i++) map.set(state.fps[i]!, state.palette[state.values[i]!]!);
  batches(probes, (fp) => lookup(state, fp)); // warm-up
  const ours = batches(probes, (fp) => lookup(state, fp));
  const base = batches(probes, (fp) => map.get(fp));
  const taps: number[] = [];
  for (let i = 0; i < (o.quick ? 20_000 : 100_000); i++) {
    const id = cardId(i % 2 === 0 ? Math.floor(rnd() * N) : N + 10_000_000 + i);
    const t = process.hrtime.bigint();
    lookup(state, KEY.fingerprint(id, state.bits));
    taps.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  taps.sort((a, b) => a - b);
  details['lookup'] = { ns: { p50: percentile(ours, 50), p99: percentile(ours, 99) }, mapNs: { p50: percentile(base, 50), p99: percentile(base, 99) }, tapUs: { p50: percentile(taps, 50), p99: percentile(taps, 99), max: taps[taps.length - 1] } };
  rows.push({
    figure: `vehicle list: lookup in ${thousands(N)} cards, p50 / p99 (batches of 100, half listed); a tap: fingerprint + lookup, p50 / p99`,
    baseline: `Map.get ${percentile(base, 50).toFixed(0)} / ${percentile(base, 99).toFixed(0)} ns`,
    measured: `${percentile(ours, 50).toFixed(0)} / ${percentile(ours, 99).toFixed(0)} ns; tap ${percentile(taps, 50).toFixed(2)} / ${percentile(taps, 99).toFixed(2)} µs`,
    target: 'tap ≤ 1 ms',
    met: percentile(taps, 99) <= 1000,
  });

  // False passes: card ids not on the list (another prefix), every one fingerprinted and looked up.
  const trials = o.quick ? 1_000_000 : 10_000_000;
  let hits = 0;
  const t2 = performance.now();
  for (let i = 0; i < trials; i++) if (lookup(state, KEY.fingerprint(`08${i.toString(16).toUpperCase().padStart(12, '0')}`, state.bits)) !== undefined) hits++;
  const falseMs = performance.now() - t2;
  const expected = state.fps.length / 2 ** state.bits;
  details['falsePasses'] = { trials, hits, expectedRate: expected, ms: falseMs };
  rows.push({
    figure: `vehicle list: false matches, ${thousands(trials)} unlisted cards tapped against ${thousands(N)} listed (${state.bits} bits)`,
    baseline: `expected ${(expected * trials).toFixed(1)} (${expected.toExponential(2)} a tap)`,
    measured: `${hits} (${(hits / trials).toExponential(2)} a tap; ${(falseMs / trials * 1000).toFixed(2)} µs per fingerprint + lookup)`,
    target: '≤ 1e-6 a tap',
    met: hits / trials <= 1e-6,
  });

  return { name: 'vehicle-list', rows, details, durationMs: performance.now() - began };
}

if (isMain(import.meta.url)) runAlone(benchVehicleList);
