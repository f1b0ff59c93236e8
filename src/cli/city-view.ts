/**
 * `hes-gate city status` for a person: sentences and aligned tables, times as "12 s ago" with the
 * ISO time beside them, never epoch milliseconds or raw JSON (`--json` keeps the machine form).
 *
 *   city      key space, epoch, lease holder and token, stream length, snapshot sizes
 *   nodes     one row per node heard from or registered: role, identity (registered / revoked /
 *             not registered), state, version, lag, last seen, entries refused, digests, last repair
 *
 * Digest agreement and the last repair come from the nodes' heartbeats (`digest: {agrees, at,
 * ranges, differing}` and `lastRepair: {at, moved}`, the node's reconciler's last result,
 * heartbeat.ts); a node that has not compared yet (or an older version) says "—".
 */
import type { NodeRecord } from '../city/identity/node-registry.js';
import { alignColumns } from '../text-table.js';

export interface NodeHeartbeat {
  role?: string;
  version?: string;
  state?: string;
  lagSeconds?: number;
  lagEntries?: number;
  time?: number;
  refused?: Record<string, number>;
  digest?: { agrees?: boolean; at?: number; ranges?: number; differing?: number };
  lastRepair?: { at?: number; moved?: number };
}

export interface CityStatusView {
  kid: string;
  epoch: string | null;
  leaseHolder: string | null;
  leaseTtlMs: number | null;
  fencingToken: number | null;
  changes: { length: number; lastId: string | null };
  bindings: number;
  statuses: number;
  lookups: number;
  nodes: Array<{ node: string; ttlMs: number; heartbeat: unknown }>;
  /** The registry of node identities (roles and public keys: nothing secret). */
  registry: Array<{ node: string } & NodeRecord>;
}

/** "4 s ago", "3 min ago", "2 h ago", "5 d ago" (future times as "in …"). */
export function relative(ms: number, now: number): string {
  const d = Math.round((now - ms) / 1000);
  const a = Math.abs(d);
  const text = a < 90 ? `${a} s` : a < 5400 ? `${Math.round(a / 60)} min` : a < 172_800 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86_400)} d`;
  return d >= 0 ? `${text} ago` : `in ${text}`;
}

const when = (ms: number | undefined | null, now: number): string => (typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? `${relative(ms, now)} (${new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')})` : '—');

/** Rows under a header and a rule, columns aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return alignColumns([header, ...rows], { rule: true });
}

function heartbeatOf(v: unknown): NodeHeartbeat {
  return typeof v === 'object' && v !== null ? (v as NodeHeartbeat) : {};
}

function identity(rec: NodeRecord | undefined): string {
  if (rec === undefined) return 'NOT REGISTERED';
  return rec.revoked === null ? `registered (${rec.role})` : 'REVOKED';
}

function agreement(hb: NodeHeartbeat, now: number): string {
  const d = hb.digest;
  if (d === undefined || typeof d.agrees !== 'boolean') return '—';
  const detail = typeof d.differing === 'number' && typeof d.ranges === 'number' ? ` ${d.differing}/${d.ranges} ranges` : '';
  return `${d.agrees ? 'agree' : 'DIFFER'}${detail}${typeof d.at === 'number' ? `, ${relative(d.at, now)}` : ''}`;
}

function repair(hb: NodeHeartbeat, now: number): string {
  const r = hb.lastRepair;
  if (r === undefined || typeof r.at !== 'number') return '—';
  return `${relative(r.at, now)}${typeof r.moved === 'number' ? `, ${r.moved} moved` : ''}`;
}

const sum = (r: Record<string, number> | undefined): number => (r === undefined ? 0 : Object.values(r).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0));

export function describeCity(s: CityStatusView, now: number): string {
  const registry = new Map(s.registry.map((r) => [r.node, r]));
  const heard = new Map(s.nodes.map((n) => [n.node, n]));
  const ids = [...new Set([...heard.keys(), ...registry.keys()])].sort();
  const rows = ids.map((id) => {
    const hb = heartbeatOf(heard.get(id)?.heartbeat);
    const rec = registry.get(id);
    const seen = heard.has(id) ? when(hb.time, now) : 'not heard from';
    const lag = typeof hb.lagSeconds === 'number' ? `${hb.lagSeconds} s / ${hb.lagEntries ?? 0} entries` : '—';
    const refused = hb.refused === undefined ? '—' : String(sum(hb.refused));
    return [id, hb.role ?? rec?.role ?? '—', identity(rec), hb.state ?? '—', hb.version ?? '—', lag, seen, refused, agreement(hb, now), repair(hb, now)];
  });
  const lease =
    s.leaseHolder === null
      ? `No hub holds the refresher lease (fencing token so far: ${s.fencingToken ?? 0}).`
      : `Hub ${s.leaseHolder} holds the refresher lease with fencing token ${s.fencingToken ?? '?'}; it lapses in ${Math.max(0, Math.round((s.leaseTtlMs ?? 0) / 1000))} s unless renewed.`;
  const revoked = s.registry.filter((r) => r.revoked !== null).length;
  const unregistered = ids.filter((id) => heard.has(id) && !registry.has(id)).length;
  const refusedTotal = s.nodes.reduce((a, n) => a + sum(heartbeatOf(n.heartbeat).refused), 0);
  const lines = [
    `City key space ${s.kid}, epoch ${s.epoch ?? '(none yet: no hub has written)'}.`,
    lease,
    `The change stream holds ${s.changes.length} entries${s.changes.lastId === null ? '' : `, the newest written ${when(Number(s.changes.lastId.split('-')[0]), now)}`}; ${s.lookups} relayed lookups.`,
    `Snapshot: ${s.bindings} bindings, ${s.statuses} statuses.`,
    `Identities: ${s.registry.length} registered (${revoked} revoked)${unregistered > 0 ? `, ${unregistered} node(s) heard from but NOT registered: their word is refused everywhere` : ''}. Entries refused so far (forged, replayed, revoked): ${refusedTotal}.`,
    '',
    `Nodes (${ids.length}):`,
    table(['node', 'role', 'identity', 'state', 'version', 'lag', 'last seen', 'refused', 'digests', 'last repair'], rows),
  ];
  return lines.join('\n');
}
