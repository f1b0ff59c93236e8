/**
 * `hes-gate city node keygen|add|revoke|list`: node identities, managed at a hub.
 *
 *   keygen --out <file>      on the node: a new Ed25519 key file (0600) for city.nodeKeyFile; prints its public key
 *   add <id> --role r --public-key <key>
 *                            at a hub: registers the key (hg:nodes); prints the node's own Redis ACL user
 *                            for an administrator to create (the hub's user may not run ACL)
 *   revoke <id>              at a hub: every node refuses the node's signatures from its next heartbeat;
 *                            prints the ACL commands that switch its Redis user off and drop its connections
 *   list                     the registry as a table
 *
 * Nothing here touches another node's record: revoking one station changes nobody else.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { cityKeyspace } from '../city/keyspace.js';
import { NodeKey } from '../city/identity/node-key.js';
import { addNode, nodeUser, readRegistry, revokeNode, stationAclRules, type NodeRole } from '../city/identity/node-registry.js';
import { cityUnavailable } from '../city/hub/redis-error.js';
import { HesGateError } from '../errors.js';
import { openCity } from './city-connection.js';
import { table } from './city-view.js';

type Runner = (fn: () => Promise<number | void>) => () => void;

async function withCity<T>(name: string, fn: (city: Awaited<ReturnType<typeof openCity>>) => Promise<T>): Promise<T> {
  const { config } = loadConfig();
  const city = await openCity(config, name);
  try {
    return await fn(city);
  } catch (err) {
    throw err instanceof HesGateError ? err : cityUnavailable('the node registry', err);
  } finally {
    city.redis.disconnect();
  }
}

export async function nodeKeygen(opts: { out: string }): Promise<number> {
  const publicKey = await NodeKey.create(opts.out);
  process.stdout.write(`${publicKey}\n`);
  process.stderr.write(
    `hes-gate: a new node key in ${opts.out} (mode 0600): set city.nodeKeyFile (HES_GATE_CITY_NODE_KEY_FILE) to it on this node, and register the public key above at a hub:\n  hes-gate city node add <this node's stationId> --role station --public-key ${publicKey}\n`,
  );
  return 0;
}

export async function nodeAdd(id: string, opts: { role: string; publicKey: string }): Promise<number> {
  const role = opts.role as NodeRole;
  const rec = await withCity('node-add', ({ key, redis }) => addNode(redis, cityKeyspace(key.kid), id, role, opts.publicKey, Date.now()));
  const lines = [`hes-gate: node ${id} registered as a ${rec.role}; every node takes its signature from its next heartbeat.`];
  if (rec.role === 'station') {
    lines.push(
      `Create its own Redis user as an administrator (it may write only its own lookup stream and heartbeat), then give the node city.redisUser ${nodeUser(id)}:`,
      `  ACL SETUSER ${nodeUser(id)} ${stationAclRules(id)} #<sha256 of its password>`,
      '  ACL SAVE',
    );
  } else {
    lines.push('A hub writes the city: give it the hes-gate-hub rules of ops/redis/users.acl under a user of its own.');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function nodeRevoke(id: string): Promise<number> {
  const rec = await withCity('node-revoke', ({ key, redis }) => revokeNode(redis, cityKeyspace(key.kid), id, Date.now()));
  process.stdout.write(
    [
      `hes-gate: node ${id} revoked at ${new Date(rec.revoked!).toISOString()}: every node refuses its entries from its next heartbeat (counted as revoked); no other node is touched.`,
      'Switch its Redis user off and drop its connections as an administrator:',
      `  ACL SETUSER ${nodeUser(id)} off`,
      `  CLIENT KILL USER ${nodeUser(id)}`,
      '  ACL SAVE',
      '',
    ].join('\n'),
  );
  return 0;
}

export async function nodeList(opts: { json?: boolean }): Promise<number> {
  const { nodes } = await withCity('node-list', ({ key, redis }) => readRegistry(redis, cityKeyspace(key.kid)));
  const list = [...nodes].map(([node, r]) => ({ node, ...r })).sort((a, b) => a.node.localeCompare(b.node));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(list)}\n`);
    return 0;
  }
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  process.stdout.write(`${table(['node', 'role', 'state', 'registered', 'public key'], list.map((r) => [r.node, r.role, r.revoked === null ? 'active' : `REVOKED ${iso(r.revoked)}`, iso(r.added), `${r.key.slice(0, 12)}…`]))}\n`);
  return 0;
}

export function registerNodeCommands(city: Command, run: Runner): void {
  const node = city.command('node').description('node identities: each station and hub signs with its own key, registered and revocable at a hub');
  node
    .command('keygen')
    .description('write a new Ed25519 node key file (mode 0600) for city.nodeKeyFile and print its public key')
    .requiredOption('--out <file>', 'where to write the key file (never overwritten)')
    .action((opts: { out: string }) => run(() => nodeKeygen(opts))());
  node
    .command('add <id>')
    .description('register a node\'s public key (run at a hub); prints the node\'s own Redis ACL user')
    .requiredOption('--role <role>', 'station or hub')
    .requiredOption('--public-key <key>', 'the public key `city node keygen` printed on the node')
    .action((id: string, opts: { role: string; publicKey: string }) => run(() => nodeAdd(id, opts))());
  node
    .command('revoke <id>')
    .description('revoke a node: its signatures are refused city-wide; prints the ACL commands for its Redis user')
    .action((id: string) => run(() => nodeRevoke(id))());
  node
    .command('list')
    .description('the registry of node identities')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => run(() => nodeList(opts))());
}
