/**
 * The new-cards figure (issue 21): ministry calls for N new cards bound at a hub and then tapped
 * at S = 5 stations (`hes-gate serve` child processes, one real redis-server, the simulator).
 *
 *   baseline   the bindings written as a hub wrote them before issue 21, without their status
 *              (a CityRegistry with no ministry, in this process, signed with the hub's key):
 *              every station that sees the card tapped asks the ministry itself
 *   measured   PUT /v1/cards/:id at the hub: the registry asks the ministry for the code in the
 *              same write and the binding reaches every station with its status
 *
 * Each card is tapped at the five stations at once, after every station holds the binding.
 * Counted: simulator requests that carry one of the new codes (single and bulk), from the first
 * write to a settle time after the last tap; the leader's background rotation is not counted
 * unless it asks a new code. Target: at most N calls, not N × S.
 *
 * Run alone: `npm run build && node dist/bench/city-new-cards.js [--quick]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { CityKey } from '../src/city/city-key.js';
import { CityRegistry } from '../src/city/hub/registry.js';
import { NodeKey } from '../src/city/identity/node-key.js';
import { startSimulator, type SimulatorRequestEvent } from '../src/simulator/index.js';
import { startNode, type City, type Node } from './city.js';
// The city tests' Redis harness: one implementation of real Redis processes (tests never import bench/).
import { RedisServer } from '../test/city/redis-harness.js';
import { isMain, runAlone, sleep, type BenchOptions, type FigureReport } from './report.js';

const S = 5;
const ADMIN = 'bench-city-admin-token';
const codeOf = (i: number): string => `N${String(i).padStart(9, '0')}`;
const cardOf = (i: number): string => `CB${i.toString(16).toUpperCase().padStart(14, '0')}`;

interface Phase {
  /** Simulator requests that carried at least one of the phase's codes. */
  calls: number;
  singleCalls: number;
  bulkCalls: number;
  /** Codes of the phase asked, over all those requests. */
  codesAsked: number;
  /** Taps that passed (every new code is RISKLESS at the simulator). */
  passed: number;
  taps: number;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function holds(node: Node, cardId: string): Promise<boolean> {
  const res = await fetch(`${node.url}/v1/cards/${cardId}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  await res.arrayBuffer();
  return res.status === 200;
}

async function tap(node: Node, cardId: string): Promise<string> {
  const res = await fetch(`${node.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gate: 'G1', card: cardId }) });
  const body = (await res.json()) as { verdict?: string };
  return body.verdict ?? `HTTP ${res.status}`;
}

async function phase(city: City, stations: Node[], from: number, n: number, bind: (cards: Array<{ cardId: string; hesCode: string }>) => Promise<void>, settleMs: number): Promise<Phase> {
  const cards = Array.from({ length: n }, (_, k) => ({ cardId: cardOf(from + k), hesCode: codeOf(from + k) }));
  const codes = new Set(cards.map((c) => c.hesCode));
  const out: Phase = { calls: 0, singleCalls: 0, bulkCalls: 0, codesAsked: 0, passed: 0, taps: 0 };
  const listener = (e: SimulatorRequestEvent): void => {
    const mine = e.codes.filter((c) => codes.has(c)).length;
    if (mine === 0) return;
    out.calls++;
    out.codesAsked += mine;
    if (e.endpoint.startsWith('check-hes-codes')) out.bulkCalls++;
    else out.singleCalls++;
  };
  city.sim.on('request', listener);
  try {
    await bind(cards);
    for (const st of stations) await waitFor(`${st.name} holds the new bindings`, async () => holds(st, cards[cards.length - 1]!.cardId));
    for (const c of cards) {
      const verdicts = await Promise.all(stations.map((st) => tap(st, c.cardId)));
      out.taps += verdicts.length;
      out.passed += verdicts.filter((v) => v === 'pass').length;
    }
    // Calls a tap started go on after its deadline; shared answers and hints travel on.
    await sleep(settleMs);
  } finally {
    city.sim.off('request', listener);
  }
  return out;
}

export async function benchCityNewCards(o: BenchOptions = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const N = o.quick ? 10 : 20;
  const dir = mkdtempSync(join(tmpdir(), 'hes-gate-bench-new-cards-'));
  const redis = await RedisServer.start({ appendOnly: false });
  const sim = await startSimulator();
  const keyFile = join(dir, 'city.key');
  writeFileSync(keyFile, `${CityKey.generateLine('k1')}\n`, { mode: 0o600 });
  const city: City = { dir, redis, sim, keyFile };
  const nodes: Node[] = [];
  const admin = new Redis(redis.port, '127.0.0.1');
  try {
    for (let i = 0; i < 2 * N; i++) sim.setCode(codeOf(i), { code: codeOf(i), status: 'RISKLESS', note: 'a new card in the new-cards benchmark' });
    const hub = await startNode(city, 'hub-1', 'hub');
    nodes.push(hub);
    const stations: Node[] = [];
    for (let s = 1; s <= S; s++) stations.push(await startNode(city, `station-${s}`, 'station'));
    nodes.push(...stations);
    await waitFor('the hub to register its key', async () => (await admin.hexists('hg:nodes', 'hub-1')) === 1);

    // Baseline: bindings without their status, as a hub wrote them before (signed as the hub).
    const key = await CityKey.load(keyFile);
    const nodeKey = await NodeKey.load(join(dir, 'hub-1.node-key'));
    const plain = new CityRegistry({ redis: admin, key, nodeId: 'hub-1', changesMaxLen: 1_000_000, nodeKey });
    const baseline = await phase(city, stations, 0, N, async (cards) => {
      for (const c of cards) await plain.put({ ...c, profile: 'standard' });
    }, 2000);
    // Measured: the hub's card admin API, one card at a time.
    const measured = await phase(city, stations, N, N, async (cards) => {
      for (const c of cards) {
        const res = await fetch(`${hub.url}/v1/cards/${c.cardId}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode: c.hesCode }) });
        if (!res.ok) throw new Error(`PUT at the hub: ${res.status} ${await res.text()}`);
      }
    }, 2000);
    console.log(`   N = ${N} new cards, S = ${S} stations: without status in the write ${baseline.calls} ministry calls (${baseline.singleCalls} single, ${baseline.bulkCalls} bulk, ${baseline.codesAsked} codes asked); with it ${measured.calls} (${measured.singleCalls} single, ${measured.bulkCalls} bulk, ${measured.codesAsked} codes); taps passed ${baseline.passed}/${baseline.taps} and ${measured.passed}/${measured.taps}`);
    return {
      name: 'city-new-cards',
      durationMs: performance.now() - began,
      details: { N, S, baseline, measured },
      rows: [
        {
          figure: `ministry calls for N = ${N} new cards bound at a hub and tapped at S = ${S} stations`,
          baseline: `${baseline.calls} (binding without status)`,
          measured: `${measured.calls} (${measured.codesAsked} codes asked)`,
          target: `≤ N = ${N} (not N × S = ${N * S})`,
          met: measured.calls <= N && measured.passed === measured.taps,
        },
      ],
    };
  } finally {
    for (const n of nodes.reverse()) await n.close();
    admin.disconnect();
    await sim.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) runAlone(benchCityNewCards);
