/**
 * The city's durability and anti-entropy figures (issue 21), on real redis-server processes
 * (AOF, appendfsync always) and real SQLite stores:
 *
 *   repair       a city of 1,000,000 bindings (100,000 with --quick): a hub's record and a
 *                station's replica agree with Redis; 10,000 of the station's bindings (1 %) are
 *                deleted or altered in its SQLite file; one reconciliation round finds and
 *                repairs them. Time to detect and repair, and the bytes read from Redis against
 *                a full snapshot (every field and value of the bindings hash).
 *   acknowledge  admin writes (one binding, p50/p99) and imports (rows/s, batches of 500) on a
 *                primary with one replica, in the same run: today's write (HMGET, then MULTI
 *                of HSET + XADD) against the write script with its digest tree, then acknowledged
 *                after WAIT 1, then after WAIT 1 and the hub's own record.
 *
 * Run alone: `npm run build && node dist/bench/city-reconcile.js [--quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { openStationStore, type StationStore } from '../src/cards/station-store.js';
import { STORE_FILE } from '../src/cards/store.js';
import { CityKey } from '../src/city/city-key.js';
import { NodeKey } from '../src/city/identity/node-key.js';
import { registerSelf } from '../src/city/identity/node-registry.js';
import { CityRegistry } from '../src/city/hub/registry.js';
import { cityKeyspace } from '../src/city/keyspace.js';
import { Reconciler } from '../src/city/reconcile/reconciler.js';
import { createReplica, type CityReplica } from '../src/city/replica/replica.js';
import { streamInfo } from '../src/city/replica/stream-info.js';
import { CityWire, type SharedBinding } from '../src/city/wire.js';
import { HesGateError } from '../src/errors.js';
import { createLogger } from '../src/ops/logger.js';
import { StatusService } from '../src/status/status-service.js';
import { RedisServer } from '../test/city/redis-harness.js';
import { isMain, percentile, perSec, runAlone, type BenchOptions, type FigureReport, type Row } from './report.js';

const card = (i: number): string => `04${i.toString(16).toUpperCase().padStart(12, '0')}`;
const code = (i: number, salt = 0): string => `H${(i * 7 + salt).toString(36).toUpperCase().padStart(9, '0')}`;
const bindingOf = (i: number): SharedBinding => ({ cardId: card(i), hesCode: code(i), profile: i % 4 === 0 ? 'student' : 'standard' });
const logger = createLogger('silent');
/** The writing hub's signing key, registered in each city the benchmark makes (replicas refuse unsigned entries). */
const HUB_KEY = NodeKey.parse(NodeKey.generate().pem);

function statusService(store?: StationStore): StatusService {
  return new StatusService({
    risklessTtlMs: 600_000, riskyTtlMs: 21_600_000, notFoundTtlMs: 60_000, expiredTtlMs: 3_600_000, lastKnownMaxAgeMs: 86_400_000, maxEntries: 10_000,
    ministry: () => Promise.reject(new HesGateError('HG_MINISTRY_SERVER_ERROR', 'no ministry in this benchmark')),
    clock: Date.now,
    ...(store === undefined ? {} : { persistence: store }),
  });
}

interface Copy {
  store: StationStore;
  replica: CityReplica;
  reconciler: Reconciler;
  close(): Promise<void>;
}

/** A node's copy: a store filled with `n` bindings at the stream's current position, its replica and reconciler. */
async function openCopy(dir: string, redis: RedisServer, key: CityKey, role: 'hub' | 'station', n: number, registry?: CityRegistry): Promise<Copy> {
  const store = await openStationStore({ dataDir: dir });
  for (let i = 0; i < n; i += 50_000) await store.putBindings(Array.from({ length: Math.min(50_000, n - i) }, (_, j) => bindingOf(i + j)));
  const names = cityKeyspace(key.kid);
  const conn = (name: string, blocking: boolean): Redis => new Redis({ port: redis.port, host: '127.0.0.1', connectionName: name, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, ...(blocking ? {} : { commandTimeout: 10_000 }) });
  const admin = conn('setup', false);
  await admin.connect();
  const info = await streamInfo(admin, names.changes);
  await store.saveCityPosition({ kid: key.kid, epoch: (await admin.get(names.epoch))!, changesId: info.lastId, changesSeq: info.entriesAdded });
  admin.disconnect();
  const replica = createReplica({ key, nodeKey: NodeKey.parse(NodeKey.generate().pem), nodeId: `${role}-1`, role, connect: conn, store, status: statusService(store), clock: Date.now, logger, heartbeatMs: 60_000, lookupsMaxLen: 1000, blockMs: 1000 });
  const rr = conn('reconcile', false);
  await rr.connect();
  const reconciler = new Reconciler({
    role, redis: rr, key, names, wire: new CityWire(key, names), record: store, replica, store, logger, clock: Date.now, intervalMs: 3_600_000,
    ...(registry === undefined ? {} : { registry }),
  });
  replica.start();
  await replica.caughtUp();
  return {
    store,
    replica,
    reconciler,
    close: async () => {
      await reconciler.stop();
      rr.disconnect();
      await replica.stop();
      await store.close();
    },
  };
}

async function benchRepair(quick: boolean, dir: string): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const N = quick ? 100_000 : 1_000_000;
  const BAD = quick ? 1_000 : 10_000;
  const key = CityKey.parse(CityKey.generateLine('k1'));
  const names = cityKeyspace(key.kid);
  const redis = await RedisServer.start();
  const conn = new Redis({ port: redis.port, host: '127.0.0.1', commandTimeout: 60_000 });
  const copies: Copy[] = [];
  try {
    // The city: N bindings written by the registry's own script (its digest tree with them).
    const registry = new CityRegistry({ redis: conn, key, nodeKey: HUB_KEY, nodeId: 'hub-1', changesMaxLen: 100_000 });
    await registry.ensureEpoch();
    await registerSelf(conn, names, 'hub-1', HUB_KEY.publicKey, Date.now());
    const usedMemory = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await conn.info('memory'))?.[1]);
    const memBefore = await usedMemory();
    const t0 = performance.now();
    for (let i = 0; i < N; i += 500) await registry.repair(Array.from({ length: Math.min(500, N - i) }, (_, j) => bindingOf(i + j)), []);
    const fillMs = performance.now() - t0;
    // What the digest tree costs in Redis per binding: all memory the fill added, less the bindings hash and the stream.
    const memAdded = (await usedMemory()) - memBefore;
    const hashBytes = Number(await conn.call('MEMORY', 'USAGE', names.bindings, 'SAMPLES', '0'));
    const streamBytes = Number(await conn.call('MEMORY', 'USAGE', names.changes, 'SAMPLES', '0'));
    const treePerBinding = (memAdded - hashBytes - streamBytes) / N;
    const hub = await openCopy(join(dir, 'hub'), redis, key, 'hub', N, registry);
    copies.push(hub);
    const st = await openCopy(join(dir, 'station'), redis, key, 'station', N);
    copies.push(st);
    const h0 = performance.now();
    const hubOutcome = await hub.reconciler.round();
    const agreeMs = performance.now() - h0;
    if (hubOutcome !== 'agree') throw new Error(`the hub's record and the city differ before the test (${hubOutcome})`);

    // 1 % of the station's bindings go missing or wrong in its SQLite file.
    const db = new Database(join(dir, 'station', STORE_FILE));
    const del = db.prepare('DELETE FROM bindings WHERE card_id = ?');
    const alter = db.prepare("UPDATE bindings SET hes_code = 'ZZZZZZZZZ1' WHERE card_id = ?");
    const step = Math.floor(N / BAD);
    db.transaction(() => {
      for (let k = 0; k < BAD; k++) (k % 2 === 0 ? del : alter).run(card(k * step));
    })();
    db.close();

    const bytes0 = st.reconciler.report().bytesRead;
    // The baseline: the same process's event-loop delay while it does nothing (the machine's own share of a stall).
    const idle = monitorEventLoopDelay({ resolution: 1 });
    idle.enable();
    await new Promise((r) => setTimeout(r, quick ? 3000 : 10_000));
    idle.disable();
    // The thread that answers taps runs the round: how long did it ever wait on it?
    const loop = monitorEventLoopDelay({ resolution: 1 });
    // The collector's pauses in the same span: a stall longer than any slice is the heap's, not the walk's.
    let gcMaxMs = 0;
    let gcTotalMs = 0;
    const gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        gcMaxMs = Math.max(gcMaxMs, e.duration);
        gcTotalMs += e.duration;
      }
    });
    gc.observe({ entryTypes: ['gc'] });
    loop.enable();
    const r0 = performance.now();
    const outcome = await st.reconciler.round();
    const repairMs = performance.now() - r0;
    loop.disable();
    gc.disconnect();
    const stallMaxMs = loop.max / 1e6;
    const stallP99Ms = loop.percentile(99) / 1e6;
    const r = st.reconciler.report();
    const moved = r.bytesRead - bytes0;
    if (outcome !== 'repaired' || r.repaired !== BAD) throw new Error(`the round ${outcome}, repaired ${r.repaired} of ${BAD}`);
    if ((await st.reconciler.round()) !== 'agree') throw new Error('the station does not agree after its repair');
    let snapshot = 0;
    let cursor = '0';
    do {
      const [next, flat] = await conn.hscan(names.bindings, cursor, 'COUNT', 5000);
      for (const x of flat) snapshot += x.length;
      cursor = next;
    } while (cursor !== '0');
    const details = { N, BAD, fillMs, agreeMs, repairMs, ranges: r.divergentRanges, stallMaxMs, stallP99Ms, gcMaxMs, gcTotalMs, idleMaxMs: idle.max / 1e6, idleP99Ms: idle.percentile(99) / 1e6, bytesRead: moved, snapshotBytes: snapshot, memAdded, hashBytes, streamBytes, treePerBinding };
    const rows: Row[] = [
      { figure: `reconcile: agree, a copy of ${N.toLocaleString('en-US')} bindings (one round)`, baseline: '—', measured: `${(agreeMs / 1000).toFixed(1)} s`, target: '—', met: null },
      { figure: `reconcile: find and repair ${BAD.toLocaleString('en-US')} missing/wrong bindings of ${N.toLocaleString('en-US')}`, baseline: '—', measured: `${(repairMs / 1000).toFixed(1)} s (${r.divergentRanges} ranges)`, target: '—', met: null },
      { figure: 'reconcile: event-loop delay during that round (p99 / max)', baseline: `idle ${(idle.percentile(99) / 1e6).toFixed(1)} / ${(idle.max / 1e6).toFixed(1)} ms`, measured: `${stallP99Ms.toFixed(1)} / ${stallMaxMs.toFixed(1)} ms`, target: '—', met: null },
      { figure: 'reconcile: garbage-collection pauses during that round (longest / total)', baseline: '—', measured: `${gcMaxMs.toFixed(1)} / ${gcTotalMs.toFixed(0)} ms`, target: '—', met: null },
      { figure: 'reconcile: Redis memory of the digest tree per binding (leaves + nodes)', baseline: `bindings hash ${(hashBytes / N).toFixed(0)} B`, measured: `${treePerBinding.toFixed(0)} B`, target: '—', met: null },
      { figure: 'reconcile: bytes read from Redis vs a full snapshot', baseline: `${(snapshot / 1e6).toFixed(1)} MB`, measured: `${(moved / 1e6).toFixed(1)} MB (${((100 * moved) / snapshot).toFixed(1)} %)`, target: '< 25 %', met: moved < snapshot / 4 },
    ];
    return { rows, details };
  } finally {
    for (const c of copies) await c.close();
    conn.disconnect();
    await redis.stop();
  }
}

/** Today's write, as the registry made it before the digest tree: HMGET, then MULTI of SET NX, HSET, XADD. */
async function todaysWrite(redis: Redis, wire: CityWire, names: ReturnType<typeof cityKeyspace>, batch: readonly SharedBinding[]): Promise<void> {
  await redis.hmget(names.bindings, ...batch.map((b) => wire.bindingFieldOf(b.cardId)));
  const hset = batch.flatMap((b) => wire.bindingField(b));
  const out = await redis.multi().set(names.epoch, 'e', 'NX').hset(names.bindings, ...hset).xadd(names.changes, 'MAXLEN', '~', '100000', '*', ...wire.bindingsEntry({ put: [...batch], del: [] }, 'hub-1')).exec();
  if (out === null || out.some(([e]) => e !== null)) throw new Error('MULTI failed');
}

async function benchAcknowledge(quick: boolean, dir: string): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const WRITES = quick ? 100 : 400;
  const ROWS = quick ? 5_000 : 25_000;
  const key = CityKey.parse(CityKey.generateLine('k1'));
  const names = cityKeyspace(key.kid);
  const wire = new CityWire(key, names);
  const primary = await RedisServer.start();
  const replicaServer = await RedisServer.start({ replicaOf: primary.port });
  const redis = new Redis({ port: primary.port, host: '127.0.0.1', commandTimeout: 10_000 });
  const probe = new Redis({ port: replicaServer.port, host: '127.0.0.1' });
  for (;;) {
    if ((await probe.info('replication')).includes('master_link_status:up')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  probe.disconnect();
  let next = 10_000_000;
  const modes: Array<{ name: string; write: (b: readonly SharedBinding[]) => Promise<unknown>; close?: () => Promise<void> }> = [];
  modes.push({ name: "today's (MULTI, no ack)", write: (b) => todaysWrite(redis, wire, names, b) });
  modes.push({ name: 'script + digests', write: (b) => new CityRegistry({ redis, key, nodeKey: HUB_KEY, nodeId: 'hub-1', changesMaxLen: 100_000 }).putMany(b) });
  const waitReg = new CityRegistry({ redis, key, nodeKey: HUB_KEY, nodeId: 'hub-1', changesMaxLen: 100_000, ackReplicas: 1 });
  modes.push({ name: 'script + WAIT 1', write: (b) => waitReg.putMany(b) });
  const store = await openStationStore({ dataDir: join(dir, 'record') });
  const conn = (name: string, blocking: boolean): Redis => new Redis({ port: primary.port, host: '127.0.0.1', connectionName: name, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, ...(blocking ? {} : { commandTimeout: 10_000 }) });
  const replica = createReplica({ key, nodeKey: HUB_KEY, nodeId: 'hub-1', role: 'hub', connect: conn, store, status: statusService(store), clock: Date.now, logger, heartbeatMs: 60_000, lookupsMaxLen: 1000, blockMs: 1000 });
  const fullReg = new CityRegistry({ redis, key, nodeKey: HUB_KEY, nodeId: 'hub-1', changesMaxLen: 100_000, ackReplicas: 1, recorded: (id, t) => replica.appliedThrough(id, t), record: { position: () => store.cityPosition(), bindingsAfter: (a, l) => store.bindingsAfter(a, l) } });
  modes.push({ name: 'script + WAIT 1 + record', write: (b) => fullReg.putMany(b) });
  const results: Record<string, { p50: number; p99: number; rowsPerSec: number }> = {};
  try {
    await new CityRegistry({ redis, key, nodeKey: HUB_KEY, nodeId: 'hub-1', changesMaxLen: 100_000 }).ensureEpoch();
    await registerSelf(redis, names, 'hub-1', HUB_KEY.publicKey, Date.now());
    replica.start();
    await replica.caughtUp();
    for (const mode of modes) {
      const lat: number[] = [];
      for (let i = 0; i < WRITES; i++) {
        const t = performance.now();
        await mode.write([bindingOf(next++)]);
        lat.push(performance.now() - t);
      }
      lat.sort((a, b) => a - b);
      const t0 = performance.now();
      for (let i = 0; i < ROWS; i += 500) await mode.write(Array.from({ length: 500 }, () => bindingOf(next++)));
      const rowsPerSec = ROWS / ((performance.now() - t0) / 1000);
      results[mode.name] = { p50: percentile(lat, 50), p99: percentile(lat, 99), rowsPerSec };
    }
  } finally {
    await replica.stop();
    await store.close();
    redis.disconnect();
    await replicaServer.stop();
    await primary.stop();
  }
  const base = results["today's (MULTI, no ack)"]!;
  const rows: Row[] = [];
  for (const [name, r] of Object.entries(results)) {
    rows.push({ figure: `hub admin write p50 / p99: ${name}`, baseline: `${base.p50.toFixed(2)} / ${base.p99.toFixed(2)} ms`, measured: `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} ms`, target: '—', met: null });
    rows.push({ figure: `hub import rows/s: ${name}`, baseline: perSec(base.rowsPerSec), measured: perSec(r.rowsPerSec), target: '—', met: null });
  }
  return { rows, details: { WRITES, ROWS, results } };
}

export async function benchCityReconcile(o: BenchOptions): Promise<FigureReport> {
  const began = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'hes-gate-bench-reconcile-'));
  try {
    const ack = await benchAcknowledge(o.quick, dir);
    const repair = await benchRepair(o.quick, dir);
    return { name: 'city-reconcile', rows: [...repair.rows, ...ack.rows], details: { repair: repair.details, acknowledge: ack.details }, durationMs: performance.now() - began };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) runAlone(benchCityReconcile);
