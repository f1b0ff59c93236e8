/**
 * `hes-gate city keygen|status|node`: the city tier from an operator's shell.
 *
 *   keygen   a new city key line (`<kid>:<32 random bytes, base64>`) on stdout, for the key file
 *            every station and hub of the city reads (city.keyFile, mode 0600)
 *   status   what the city's Redis says: lease holder and fencing token, change stream length,
 *            snapshot sizes, the registry of node identities, and each node's heartbeat (counts
 *            only: nothing here is a code), as sentences and a table (city-view.ts) or `--json`
 *   node     node identities (city-nodes.ts)
 */
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { CityKey } from '../city/city-key.js';
import { cityKeyspace } from '../city/keyspace.js';
import { holderOf } from '../city/hub/lease.js';
import { cityUnavailable } from '../city/hub/redis-error.js';
import { readRegistry, type NodeRecord } from '../city/identity/node-registry.js';
import { describeCity, type CityStatusView } from './city-view.js';
import { openCity } from './city-connection.js';
import { registerNodeCommands } from './city-nodes.js';

type Runner = (fn: () => Promise<number | void>) => () => void;

export function cityKeygen(opts: { kid?: string }): number {
  const line = CityKey.generateLine(opts.kid ?? 'k1');
  process.stdout.write(`${line}\n`);
  process.stderr.write(
    [
      'hes-gate: a new city key. Put this line in the city key file of every station and hub:',
      '  /etc/hes-gate/credentials/city-key, owned by root, mode 0600; the systemd drop-in hes-gate-city.conf',
      '  hands it to the service (docs/city.md, "Setting up a city"). As the FIRST line it makes a new key space',
      '  (stations resync by snapshot); keep older lines below it until nothing sealed with them is left.',
      '',
    ].join('\n'),
  );
  return 0;
}

/** What `city status` reads (the view's shape: city-view.ts renders it). */
export type CityStatus = CityStatusView;

export async function readCityStatus(redis: Redis, kid: string): Promise<CityStatus> {
  const keys = cityKeyspace(kid);
  const [epoch, lease, leaseTtl, token, length, last, bindings, statuses, lookups] = await Promise.all([
    redis.get(keys.epoch),
    redis.get(keys.lease),
    redis.pttl(keys.lease),
    redis.get(keys.leaseToken),
    redis.xlen(keys.changes),
    redis.xrevrange(keys.changes, '+', '-', 'COUNT', 1),
    redis.hlen(keys.bindings),
    redis.hlen(keys.statuses),
    redis.xlen(keys.lookups),
  ]);
  const nodes: CityStatus['nodes'] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.heartbeats, 'COUNT', 200);
    cursor = next;
    for (const k of found) {
      const [value, ttl] = await Promise.all([redis.get(k), redis.pttl(k)]);
      if (value === null) continue;
      let heartbeat: unknown;
      try {
        heartbeat = JSON.parse(value);
      } catch {
        heartbeat = '(not JSON)';
      }
      nodes.push({ node: k.slice(keys.heartbeat('').length), ttlMs: ttl, heartbeat });
    }
  } while (cursor !== '0');
  nodes.sort((a, b) => a.node.localeCompare(b.node));
  const { nodes: records } = await readRegistry(redis, keys);
  const registry = [...records].map(([node, r]) => ({ node, ...r })).sort((a, b) => a.node.localeCompare(b.node));
  return {
    kid,
    epoch,
    leaseHolder: lease === null ? null : holderOf(lease),
    leaseTtlMs: lease === null ? null : leaseTtl,
    fencingToken: token === null ? null : Number(token),
    changes: { length, lastId: last[0]?.[0] ?? null },
    bindings,
    statuses,
    lookups,
    nodes,
    registry,
  };
}

export async function cityStatus(opts: { json?: boolean }): Promise<number> {
  const { config } = loadConfig();
  const { key, redis } = await openCity(config, 'status');
  try {
    let s: CityStatus;
    try {
      s = await readCityStatus(redis, key.kid);
    } catch (err) {
      throw cityUnavailable('the status reads', err);
    }
    process.stdout.write(opts.json ? `${JSON.stringify(s)}\n` : `${describeCity(s, Date.now())}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}

export function registerCityCommands(program: Command, run: Runner): void {
  const city = program.command('city').description('the city tier: stations and hubs sharing bindings and statuses through Redis');
  city
    .command('keygen')
    .description('print a new city key line for the city key file (mode 0600)')
    .option('--kid <id>', 'key id: 1–16 lower-case letters, digits or dashes; it names the key space', 'k1')
    .action((opts: { kid?: string }) => run(async () => cityKeygen(opts))());
  city
    .command('status')
    .description('the city as its Redis sees it: lease holder, token, stream length, snapshot sizes, node identities and heartbeats (no codes)')
    .option('--json', 'print JSON (epoch ms, raw heartbeats) for machines')
    .action((opts: { json?: boolean }) => run(async () => cityStatus(opts))());
  registerNodeCommands(city, run);
}
