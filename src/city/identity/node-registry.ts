/**
 * The hub's registry of node identities: which public key speaks for which node, in which role,
 * and whether it was revoked. Kept in Redis (`hg:nodes`, written only by hub ACL users), read by
 * every node to check signatures (trust.ts).
 *
 *   hes-gate city node add <id> --role … --public-key …  ─> HSET hg:nodes <id> {role, key, added}   INCR hg:nodes:version
 *   hes-gate city node revoke <id>                        ─> HSET hg:nodes <id> {…, revoked: <ms>}  INCR hg:nodes:version
 *   a hub at start                                        ─> HSETNX hg:nodes <own id> {role: hub, key}  (never over a record:
 *                                                             a revoked hub stays revoked until an operator adds a new key)
 *   every node, each heartbeat                            ─> GET hg:nodes:version; HGETALL hg:nodes when it moved
 *
 * Public keys and roles are not personal data; a node id is a station's name.
 */
import type { Redis } from 'ioredis';
import { HesGateError } from '../../errors.js';
import type { CityKeyspace } from '../keyspace.js';
import { publicKeyFrom } from './node-key.js';

export type NodeRole = 'station' | 'hub';

export interface NodeRecord {
  role: NodeRole;
  /** Ed25519 public key, 32 bytes base64. */
  key: string;
  /** When it was registered, epoch ms. */
  added: number;
  /** When it was revoked, epoch ms; null while it may speak. */
  revoked: number | null;
}

export const NODE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A registry value, or undefined when it is not one (a bad record trusts nobody). */
export function parseRecord(text: string): NodeRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if ((r.role !== 'station' && r.role !== 'hub') || typeof r.key !== 'string' || publicKeyFrom(r.key) === undefined) return undefined;
  if (typeof r.added !== 'number' || (r.revoked !== null && typeof r.revoked !== 'number')) return undefined;
  return { role: r.role, key: r.key, added: r.added, revoked: r.revoked };
}

function checkId(nodeId: string): void {
  if (!NODE_ID_RE.test(nodeId)) throw new HesGateError('HG_CITY_NODE', 'a node id is its stationId: letters, digits, dot, dash or underscore, at most 63 characters');
}

/** What reading the registry needs of a connection. */
export interface RegistryReader {
  get(key: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
}

export async function readRegistry(redis: RegistryReader, keys: Pick<CityKeyspace, 'nodes' | 'nodesVersion'>): Promise<{ version: string; nodes: Map<string, NodeRecord> }> {
  const [version, all] = await Promise.all([redis.get(keys.nodesVersion), redis.hgetall(keys.nodes)]);
  const nodes = new Map<string, NodeRecord>();
  for (const [id, text] of Object.entries(all)) {
    const rec = parseRecord(text);
    if (rec !== undefined) nodes.set(id, rec);
  }
  return { version: version ?? '0', nodes };
}

/** Register (or re-key) a node; `now` is the operator's clock. */
export async function addNode(redis: Redis, keys: Pick<CityKeyspace, 'nodes' | 'nodesVersion'>, nodeId: string, role: NodeRole, publicKey: string, now: number): Promise<NodeRecord> {
  checkId(nodeId);
  if (role !== 'station' && role !== 'hub') throw new HesGateError('HG_CITY_NODE', 'a node role is station or hub');
  if (publicKeyFrom(publicKey) === undefined) throw new HesGateError('HG_CITY_NODE', 'a public key is 32 bytes in base64, as hes-gate city node keygen prints it');
  const rec: NodeRecord = { role, key: publicKey, added: now, revoked: null };
  await redis.multi().hset(keys.nodes, nodeId, JSON.stringify(rec)).incr(keys.nodesVersion).exec();
  return rec;
}

/** Revoke a node: its signatures are refused by every node from its next registry read. */
export async function revokeNode(redis: Redis, keys: Pick<CityKeyspace, 'nodes' | 'nodesVersion'>, nodeId: string, now: number): Promise<NodeRecord> {
  checkId(nodeId);
  const text = await redis.hget(keys.nodes, nodeId);
  const rec = text === null ? undefined : parseRecord(text);
  if (rec === undefined) throw new HesGateError('HG_CITY_NODE', `the registry holds no node ${nodeId}`);
  const revoked: NodeRecord = { ...rec, revoked: rec.revoked ?? now };
  await redis.multi().hset(keys.nodes, nodeId, JSON.stringify(revoked)).incr(keys.nodesVersion).exec();
  return revoked;
}

/** A hub registers its own key once; true when it wrote the record. */
export async function registerSelf(redis: Redis, keys: Pick<CityKeyspace, 'nodes' | 'nodesVersion'>, nodeId: string, publicKey: string, now: number): Promise<boolean> {
  const rec: NodeRecord = { role: 'hub', key: publicKey, added: now, revoked: null };
  const written = await redis.hsetnx(keys.nodes, nodeId, JSON.stringify(rec));
  if (written === 1) await redis.incr(keys.nodesVersion);
  return written === 1;
}

/** The commands a station's own user may send (connection set-up, city reads, its lookups and heartbeat). */
const STATION_COMMANDS =
  '-@all +ping +hello +select +info +role +client|setname +client|getname +client|id +exists +type +ttl +pttl +get +mget +set +pexpire +hget +hmget +hgetall +hlen +hscan +xread +xrange +xrevrange +xlen +xinfo|stream +xadd +multi +exec +discard +time +scan';

/** The Redis user name of a node. */
export function nodeUser(nodeId: string): string {
  return `hes-gate-node-${nodeId}`;
}

/**
 * A station's own ACL rules: read the city, write only its own lookup stream and heartbeat.
 * No scripts (a script could XADD elsewhere only within the same rules, but there is no need).
 */
export function stationAclRules(nodeId: string): string {
  checkId(nodeId);
  return `on resetkeys resetchannels %R~hg:* %RW~hg:*:lookups:${nodeId} %RW~hg:hb:${nodeId} ${STATION_COMMANDS}`;
}
