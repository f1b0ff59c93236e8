/**
 * Connections per client address: one client must not hold the station's connection cap
 * (`limits.maxConnections`) and lock new validators out (issue 20: 1,100 connections dripping a
 * header byte a second held it; 68 of 69 new validators failed). Each address may hold
 * `limits.maxConnectionsPerAddress` connections; the next one gets a coded
 * `503 HG_TOO_MANY_CONNECTIONS` and is closed, before node parses anything from it.
 *
 *   'connection' ─> address key ─┬─ 127.0.0.1 / ::1 ─────────> accepted (the total cap still holds)
 *                                ├─ under its cap ──────────> accepted, counted until 'close'
 *                                └─ at its cap ─────────────> 503, closed, counted as refused
 *   'drop' (node: the total cap) ──────────────────────────> counted as refused
 *
 * An IPv6 client is counted by its /64: one host there holds a whole /64, and would otherwise
 * get a fresh allowance per address. The host's own loopback addresses (127.0.0.1 and ::1) are
 * not limited per address: their clients are this machine's own processes (tools, a local proxy,
 * benchmarks), which could stall the station's CPU anyway. Other 127.x addresses count like any
 * client address (a local proxy that binds one per upstream keeps its limit). A reserve for listed validators was not chosen: validators' addresses come from
 * DHCP at many stations, and a list that goes stale would refuse the very validators it names.
 */
import type { Server } from 'node:http';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import { rawErrorResponse } from './error-replies.js';

/** What was refused, by why; read by the metrics at scrape time. */
export interface ConnectionRefusals {
  /** Closed at once: the client's address already held `maxConnectionsPerAddress`. */
  perAddress: number;
  /** Closed by node: the server held `maxConnections`. */
  total: number;
}

/** The refusal as bytes, built once: a refused connection costs one write. */
const REFUSAL = Buffer.from(
  rawErrorResponse(503, 'HG_TOO_MANY_CONNECTIONS', 'this address holds too many connections (limits.maxConnectionsPerAddress); reuse a keep-alive connection'),
);

/** The first four groups of a full IPv6 address, `::` expanded. */
function v6Prefix64(address: string): string {
  const plain = address.split('%')[0]!.toLowerCase();
  const [head, tail] = plain.includes('::') ? (plain.split('::') as [string, string]) : [plain, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Whom a connection counts against: the IPv4 address, or the IPv6 /64; null for the host's own 127.0.0.1 and ::1 (not limited). */
export function addressKey(address: string | undefined): string | null {
  if (address === undefined) return null;
  const v4 = address.toLowerCase().startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv4(v4)) return v4 === '127.0.0.1' ? null : v4;
  if (!isIPv6(address)) return address;
  return address === '::1' ? null : v6Prefix64(address);
}

/** A refused socket: the coded answer, then closed; never handed to node's HTTP parser. */
function refuse(socket: Socket): void {
  socket.on('error', () => socket.destroy());
  // A peer that reads nothing must not keep the socket waiting for the write to drain.
  socket.setTimeout(1000, () => socket.destroy());
  socket.end(REFUSAL, () => socket.destroy());
}

/**
 * Counts connections per address on `server`, refusing those past `maxPerAddress`. node's own
 * 'connection' listener (the HTTP parser's setup) is wrapped, not joined: a refused socket never
 * reaches it, so no request of its is parsed or routed.
 */
export function guardConnections(server: Server, maxPerAddress: number): ConnectionRefusals {
  const refusals: ConnectionRefusals = { perAddress: 0, total: 0 };
  const open = new Map<string, number>();
  server.on('drop', () => {
    refusals.total += 1;
  });
  const accept = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    if (key !== null) {
      const held = open.get(key) ?? 0;
      if (held >= maxPerAddress) {
        refusals.perAddress += 1;
        refuse(socket);
        return;
      }
      open.set(key, held + 1);
      socket.once('close', () => {
        const n = (open.get(key) ?? 1) - 1;
        if (n === 0) open.delete(key);
        else open.set(key, n);
      });
    }
    for (const listener of accept) listener.call(server, socket);
  });
  return refusals;
}
