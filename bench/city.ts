/**
 * The city figure (issue 12): one hub and S stations (`hes-gate serve` child processes) on one
 * real redis-server, with B bound codes and the ministry simulator. S = 1, then S = 5 in the
 * same run:
 *
 *   calls per rotation   the leader's bulk calls for one rotation (its log) and the simulator's
 *                        count of bulk calls meanwhile: the same for S = 1 and S = 5, ⌈B / 500⌉
 *   propagation          a code turned RISKY at the ministry, refreshed by the hub: from the
 *                        stream entry's time (Redis's clock, this machine) until each station
 *                        denies it; p50 / p99 over every (change, station)
 *   catch-up             a station frozen (SIGSTOP) while the hub writes what it writes in 10
 *                        minutes at its production budget, then resumed: until its lag is 0
 *   snapshot             a new station joining a city of 1M held statuses (100k with --quick)
 *   Redis memory         bytes per bound card (binding + status + stream)
 *   tap throughput       cache-hit HES-code decisions of a station in the city vs a standalone
 *                        one, alternating rounds
 *
 * Run alone: `npm run build && node dist/bench/city.js [--quick]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { SAMPLE, SIMULATOR_USER, startSimulator, TEST_PREFIX, type Simulator } from '../src/simulator/index.js';
import { CityKey } from '../src/city/city-key.js';
import { cityKeyspace } from '../src/city/keyspace.js';
import { CityWire } from '../src/city/wire.js';
import { NodeKey } from '../src/city/identity/node-key.js';
import { addNode } from '../src/city/identity/node-registry.js';
import { MINISTRY_BULK_LIMIT } from '../src/ministry/types.js';
import { leaderBudget } from '../src/city/hub/hub.js';
import { startStation, type Station } from './processes.js';
// The city tests' Redis harness: one implementation of real Redis processes (tests never import bench/).
import { RedisServer } from '../test/city/redis-harness.js';
import { isMain, median, percentile, perSec, ratio, runAlone, sleep, type BenchOptions, type FigureReport, type Row } from './report.js';

const ADMIN = 'bench-city-admin-token';
const DEADLINE_MS = 150;

export interface Node extends Station {
  name: string;
}

export interface City {
  dir: string;
  redis: RedisServer;
  sim: Simulator;
  keyFile: string;
}

/** A node's own signing key file; a station's registered at the city as `hes-gate city node add` does (a hub registers its own). */
async function nodeKeyFile(city: City, name: string, role: 'hub' | 'station'): Promise<string> {
  const file = join(city.dir, `${name}.node-key`);
  const publicKey = await NodeKey.create(file);
  if (role === 'station') {
    const redis = new Redis(city.redis.port, '127.0.0.1');
    await addNode(redis, cityKeyspace('k1'), name, 'station', publicKey, Date.now()).finally(() => redis.disconnect());
  }
  return file;
}

export async function startNode(city: City, name: string, role: 'hub' | 'station' | 'standalone', extra: Record<string, unknown> = {}): Promise<Node> {
  const dir = join(city.dir, name);
  const config = {
    environment: 'test',
    server: { host: '127.0.0.1', port: 0 },
    ministry: { baseUrl: `${city.sim.origin}${TEST_PREFIX}`, user: SIMULATOR_USER },
    dataDir: join(dir, 'data'),
    stationId: name,
    log: { level: 'info' },
    // The leader's floor: a rotation of B codes in seconds rather than the production pace (see catch-up).
    refresher: { enabled: role !== 'station', callsPerSecond: 20 },
    city: {
      role, redisUrl: role === 'standalone' ? null : city.redis.url, keyFile: role === 'standalone' ? null : city.keyFile,
      nodeKeyFile: role === 'standalone' ? null : await nodeKeyFile(city, name, role), maxCallsPerSecond: 50, heartbeatMs: 1000,
    },
    gates: { defaults: { deadlineMs: DEADLINE_MS, ministryUnavailable: 'last-known' }, list: [{ id: 'G1' }] },
    // A hub's import request lasts as long as the city takes the rows (backpressure): give it time.
    ...(role === 'hub' ? { limits: { requestTimeoutMs: 600_000 } } : {}),
    ...extra,
  };
  // As the service runs (STATION_NODE_OPTIONS, in startStation), like the no-stall figure's station.
  const station = await startStation({ dir: city.dir, name, config, env: { HES_GATE_ADMIN_TOKEN: ADMIN } });
  return { name, ...station };
}

/** One sample of a metric from /metrics (the first series whose labels contain `labels`). */
async function metric(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels !== '' && !rest.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return Number.NaN;
}

/** Poll `check` every `everyMs` until it is true; rejects after `timeoutMs`. Returns the ms it took. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000, everyMs = 10): Promise<number> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
  return performance.now() - t0;
}

const codeOf = (i: number): string => `B${String(i).padStart(9, '0')}`;
const cardOf = (i: number): string => `CA${i.toString(16).toUpperCase().padStart(14, '0')}`;

async function importBindings(hub: Node, from: number, count: number, profile = 'standard'): Promise<void> {
  const lines: string[] = [];
  for (let i = from; i < from + count; i++) lines.push(JSON.stringify({ cardId: cardOf(i), hesCode: codeOf(i), profile }));
  const res = await fetch(`${hub.url}/v1/cards/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-ndjson' },
    body: lines.join('\n') + '\n',
  });
  if (!res.ok) throw new Error(`import at the hub: ${res.status} ${await res.text()}`);
}

async function decide(node: Node, hesCode: string): Promise<string> {
  const res = await fetch(`${node.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gate: 'G1', hesCode }) });
  const body = (await res.json()) as { verdict?: string };
  return body.verdict ?? `HTTP ${res.status}`;
}

const bulkCalls = (sim: Simulator): number => {
  const c = sim.counts().byPath as Record<string, number>;
  return (c['check-hes-codes'] ?? 0) + (c['check-hes-codes-plus'] ?? 0);
};

/** The hub's next completed rotation: calls from its log, bulk calls the simulator saw meanwhile. */
async function nextRotation(hub: Node, sim: Simulator): Promise<{ calls: number; simCalls: number; durationMs: number }> {
  await hub.waitLog((r) => r['event'] === 'city.rotation');
  const before = bulkCalls(sim);
  const rec = await hub.waitLog((r) => r['event'] === 'city.rotation');
  return { calls: Number(rec['calls']), simCalls: bulkCalls(sim) - before, durationMs: Number(rec['durationMs']) };
}

/**
 * Codes turned RISKY one by one; the hub asks each again (a re-put binding is asked in its write),
 * and every station is polled until it denies. Propagation is measured from the stream entry
 * that carried the change (its id is Redis's clock in ms) to the station's first deny.
 */
async function propagation(city: City, hub: Node, stations: Node[], wire: CityWire, changes: number, firstIndex: number): Promise<number[]> {
  const key = cityKeyspace((await CityKey.load(city.keyFile)).kid);
  const reader = new Redis(city.redis.port, '127.0.0.1');
  const out: number[] = [];
  try {
    for (let k = 0; k < changes; k++) {
      const i = firstIndex + k;
      const code = codeOf(i);
      for (const st of stations) {
        const before = await decide(st, code);
        if (before !== 'pass') throw new Error(`${st.name} should pass a RISKLESS bound code before the change, said ${before}`);
      }
      city.sim.setCode(code, { code, status: 'RISKY', note: 'turned RISKY by the city benchmark' });
      const newest = await reader.xrevrange(key.changes, '+', '-', 'COUNT', 1);
      let cursor = newest[0]?.[0] ?? '0-0';
      // The re-put (a changed profile: an unchanged binding is no change) makes the hub ask this code in the write.
      const res = await fetch(`${hub.url}/v1/cards/${cardOf(i)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ hesCode: code, profile: 'student' }),
      });
      if (!res.ok) throw new Error(`re-put at the hub: ${res.status}`);
      // Find the entry that says RISKY for this code.
      let publishedAt: number | undefined;
      while (publishedAt === undefined) {
        const got = (await reader.xread('BLOCK', 10_000, 'STREAMS', key.changes, cursor)) as Array<[string, Array<[string, string[]]>]> | null;
        if (got === null) throw new Error('the hub published no change within 10 s');
        for (const [id, fields] of got[0]![1]) {
          cursor = id;
          const e = wire.changeEntry(fields);
          const answers = e?.type === 'statuses' ? e.changes.answers : (e?.changes.statuses?.answers ?? []);
          if (answers.some(([c, a]) => c === code && a.kind === 'status' && a.status === 'RISKY')) {
            publishedAt = Number(id.split('-')[0]);
          }
        }
      }
      await Promise.all(
        stations.map(async (s) => {
          await until(`${s.name} denies a RISKY code`, async () => (await decide(s, code)) === 'deny', 10_000, 2);
          out.push(Date.now() - publishedAt!);
        }),
      );
    }
  } finally {
    reader.disconnect();
  }
  return out;
}

async function throughputRounds(subject: Node, baseline: Node, rounds: number, durationS: number): Promise<{ subject: number[]; baseline: number[] }> {
  const body = JSON.stringify({ gate: 'G1', hesCode: SAMPLE.RISKLESS });
  const run = async (n: Node): Promise<number> => {
    const r = await autocannon({ url: `${n.url}/v1/decisions`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 32, duration: durationS });
    return r.requests.total / r.duration;
  };
  await decide(subject, SAMPLE.RISKLESS);
  await decide(baseline, SAMPLE.RISKLESS);
  const out = { subject: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    out.baseline.push(await run(baseline));
    out.subject.push(await run(subject));
  }
  return out;
}

/** Write `n` held statuses straight into a city's snapshot hash (as a hub would have). */
async function fillStatuses(redis: Redis, wire: CityWire, statusesKey: string, n: number, at: number): Promise<void> {
  for (let from = 0; from < n; from += 5000) {
    const args: string[] = [];
    for (let i = from; i < Math.min(n, from + 5000); i++) {
      args.push(...wire.statusField({ at, code: codeOf(i), answer: { kind: 'status', status: 'RISKLESS', expiresAt: at + 86_400_000 } }));
    }
    await redis.hset(statusesKey, ...args);
  }
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

export async function benchCity(o: BenchOptions = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const B = o.quick ? 20_000 : 100_000;
  const bigSnapshot = o.quick ? 100_000 : 1_000_000;
  const changes = o.quick ? 10 : 40;
  const dir = mkdtempSync(join(tmpdir(), 'hes-gate-bench-city-'));
  const redis = await RedisServer.start({ appendOnly: false });
  const sim = await startSimulator();
  const keyFile = join(dir, 'city.key');
  writeFileSync(keyFile, `${CityKey.generateLine('k1')}\n`, { mode: 0o600 });
  const key = await CityKey.load(keyFile);
  const names = cityKeyspace(key.kid);
  const wire = new CityWire(key, names);
  const city: City = { dir, redis, sim, keyFile };
  const admin = new Redis(redis.port, '127.0.0.1');
  const nodes: Node[] = [];
  const details: Record<string, unknown> = { boundCodes: B };
  const rows: Row[] = [];
  try {
    for (let i = 0; i < B + 1000; i++) sim.setCode(codeOf(i), { code: codeOf(i), status: 'RISKLESS', note: 'bound in the city benchmark' });
    const mem0 = await usedMemory(admin);
    const hub = await startNode(city, 'hub-1', 'hub');
    nodes.push(hub);
    for (let from = 0; from < B; from += 50_000) await importBindings(hub, from, Math.min(50_000, B - from));

    // S = 1
    const stations: Node[] = [await startNode(city, 'station-1', 'station')];
    nodes.push(stations[0]!);
    await until('station-1 holds every binding', async () => (await metric(stations[0]!.url, 'hes_gate_card_bindings')) === B);
    const r1 = await nextRotation(hub, sim);
    const memPerCard = ((await usedMemory(admin)) - mem0) / B;
    const p1 = await propagation(city, hub, stations, wire, changes, 0);

    // S = 5: four more stations join (each by snapshot)
    const joinMs: number[] = [];
    for (let s = 2; s <= 5; s++) {
      const t0 = performance.now();
      const st = await startNode(city, `station-${s}`, 'station');
      nodes.push(st);
      stations.push(st);
      await until(`${st.name} holds every binding`, async () => (await metric(st.url, 'hes_gate_card_bindings')) === B);
      joinMs.push(performance.now() - t0);
    }
    const r5 = await nextRotation(hub, sim);
    const p5 = await propagation(city, hub, stations, wire, changes, changes);

    // Tap throughput: a station in the city (all five replicating) vs a standalone station,
    // between two rotations: the benchmark's leader runs at 20 calls/s to finish a rotation in
    // seconds, 48 times the pace a city of B = 100,000 codes needs (⌈B/500⌉ per 80 % of 10 min).
    const alone = await startNode(city, 'standalone', 'standalone');
    nodes.push(alone);
    await hub.waitLog((r) => r['event'] === 'city.rotation');
    const tp = await throughputRounds(stations[0]!, alone, o.quick ? 1 : 3, o.quick ? 2 : 3);

    // Catch-up: station-2 frozen while the hub writes ten minutes' worth, then resumed.
    const frozen = stations[1]!;
    // The production pace: what the leader derives for B codes and the default 10-minute freshness.
    const budget = leaderBudget(B, 600_000, 0, Number.POSITIVE_INFINITY);
    const tenMinutesOfEntries = Math.ceil(budget * 600);
    const len0 = Number(await admin.xlen(names.changes));
    frozen.proc.kill('SIGSTOP');
    await importBindings(hub, B, 1000, 'student');
    await until('ten minutes of hub entries', async () => Number(await admin.xlen(names.changes)) - len0 >= tenMinutesOfEntries + 1, 300_000, 50);
    const written = Number(await admin.xlen(names.changes)) - len0;
    frozen.proc.kill('SIGCONT');
    const catchUpMs = await until('the frozen station catches up', async () => (await metric(frozen.url, 'hes_gate_card_bindings')) === B + 1000 && (await metric(frozen.url, 'hes_gate_city_replication_lag_entries')) === 0, 60_000, 10);

    // A new station joining a city of `bigSnapshot` held statuses (its own key space).
    const bigKeyFile = join(dir, 'big.key');
    writeFileSync(bigKeyFile, `${CityKey.generateLine('big')}\n`, { mode: 0o600 });
    const bigKey = await CityKey.load(bigKeyFile);
    const bigNames = cityKeyspace(bigKey.kid);
    const bigWire = new CityWire(bigKey, bigNames);
    const memBig0 = await usedMemory(admin);
    await admin.set(bigNames.epoch, 'bench-epoch');
    await fillStatuses(admin, bigWire, bigNames.statuses, bigSnapshot, Date.now());
    const memPerStatus = ((await usedMemory(admin)) - memBig0) / bigSnapshot;
    const t0 = performance.now();
    const fresh = await startNode({ ...city, keyFile: bigKeyFile }, 'station-new', 'station');
    nodes.push(fresh);
    await until('the new station is live on the snapshot', async () => (await metric(fresh.url, 'hes_gate_city_state', 'state="live"')) === 1, 600_000, 20);
    const snapshotMs = performance.now() - t0;

    const p = (xs: number[], q: number): number => percentile([...xs].sort((a, b) => a - b), q);
    const exact = Math.ceil(B / MINISTRY_BULK_LIMIT);
    Object.assign(details, {
      rotationS1: r1, rotationS5: r5, propagationS1: p1, propagationS5: p5, joinMs, throughput: tp,
      catchUp: { entries: written, tenMinutesOfEntries, ms: catchUpMs }, snapshot: { statuses: bigSnapshot, ms: snapshotMs },
      memory: { perBoundCardBytes: memPerCard, perStatusBytes: memPerStatus },
    });
    const tpRatio = median(tp.subject) / median(tp.baseline);
    rows.push(
      { figure: `city: ministry calls per rotation, B = ${B.toLocaleString('en-US')} (S = 1 → S = 5)`, baseline: `⌈B / 500⌉ = ${exact}`, measured: `${r1.calls} → ${r5.calls} (simulator saw ${r1.simCalls} → ${r5.simCalls})`, target: `= ${exact}, same for S = 1 and 5`, met: r1.calls === exact && r5.calls === exact && r1.simCalls === r5.simCalls },
      { figure: 'city: status change hub → every station, p50 / p99 (S = 1)', baseline: '—', measured: `${p(p1, 50).toFixed(0)} / ${p(p1, 99).toFixed(0)} ms (${p1.length} samples)`, target: 'p99 ≤ 1000 ms', met: p(p1, 99) <= 1000 },
      { figure: 'city: status change hub → every station, p50 / p99 (S = 5)', baseline: '—', measured: `${p(p5, 50).toFixed(0)} / ${p(p5, 99).toFixed(0)} ms (${p5.length} samples)`, target: 'p99 ≤ 1000 ms', met: p(p5, 99) <= 1000 },
      { figure: `city: catch-up after 10 min offline (${written} entries, 1,000 bindings)`, baseline: '—', measured: `${(catchUpMs / 1000).toFixed(2)} s`, target: '≤ 2 s', met: catchUpMs <= 2000 },
      { figure: `city: new station, snapshot of ${bigSnapshot.toLocaleString('en-US')} statuses`, baseline: `join of ${B.toLocaleString('en-US')} bindings: ${(median(joinMs) / 1000).toFixed(1)} s`, measured: `${(snapshotMs / 1000).toFixed(1)} s`, target: '≤ 30 s', met: snapshotMs <= 30_000 },
      { figure: 'city: Redis memory per bound card (binding, status, stream)', baseline: `per held status ${memPerStatus.toFixed(0)} B`, measured: `${memPerCard.toFixed(0)} B`, target: '—', met: null },
      { figure: 'city: HES-code taps, station in a city of 5 vs standalone (between rotations)', baseline: perSec(median(tp.baseline)), measured: `${perSec(median(tp.subject))} (${ratio(tpRatio)})`, target: '≥ 0.95×', met: tpRatio >= 0.95 },
    );
  } catch (err) {
    // What each node last said, to see why (events and warnings only; never codes).
    for (const n of nodes) {
      for (const rec of n.logs.filter((r) => typeof r['event'] === 'string' || Number(r['level']) >= 40).slice(-15)) console.error(`${n.name}: ${JSON.stringify(rec)}`);
    }
    throw err;
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    admin.disconnect();
    await sim.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { name: 'city', rows, details, durationMs: performance.now() - began };
}

if (isMain(import.meta.url)) runAlone(benchCity);
