/**
 * Issue 20, item 4: one client must not lock new validators out, and an idle keep-alive
 * connection closes after `limits.idleTimeoutMs` (it stayed open 73 s with 2,000 configured:
 * fastify's own keep-alive timeout of 72 s applied). A real station on loopback; clients are raw
 * sockets, one bound to 127.0.0.2 (a client address like any other) and one from the host's own
 * 127.0.0.1 (not limited per address); every wait is on a socket's events, bounded.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressKey } from '../../src/http/connection-guard.js';
import { startTestGate } from './helpers.js';
import { answerTo, bodyOf, rawConnect, type RawConnection } from './sockets.js';

/** Scheduling slack on a busy two-core machine. */
const SLACK_MS = 1500;
const GET = 'GET /healthz HTTP/1.1\r\nHost: gate\r\n\r\n';

/** A client address other than the host's own 127.0.0.1 (which is not limited per address): Linux answers all of 127/8. */
const CLIENT = '127.0.0.2';

/** Resolves with the time from `since` when `c` closes, or rejects after `boundMs`: a connection left open fails, it does not hang. */
function closedWithin(c: RawConnection, since: number, boundMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the connection was still open ${boundMs} ms later`)), boundMs);
    void c.closed.then(() => {
      clearTimeout(timer);
      resolve(performance.now() - since);
    });
  });
}

/** Resolves once `n` of `conns` have closed; rejects after `boundMs`. */
function untilClosed(conns: readonly RawConnection[], n: number, boundMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let closed = 0;
    const timer = setTimeout(() => reject(new Error(`${closed} of ${conns.length} connections closed in ${boundMs} ms, expected ${n}`)), boundMs);
    for (const c of conns) {
      void c.closed.then(() => {
        if (++closed === n) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

const ask = (c: RawConnection, request = GET): Promise<string> => answerTo(c, request);

describe('addressKey', () => {
  it('counts IPv4 by address, IPv6 by its /64, and leaves the host\'s own 127.0.0.1 and ::1 alone', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::5')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    for (const lo of ['127.0.0.1', '::ffff:127.0.0.1', '::1', undefined]) expect(addressKey(lo), String(lo)).toBeNull();
    expect(addressKey('127.0.0.2')).toBe('127.0.0.2');
  });
});

describe('an idle keep-alive connection', () => {
  const IDLE_MS = 600;
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    // Header and request timeouts far above the idle time: only the idle timeout can close it.
    t = await startTestGate({ limits: { idleTimeoutMs: IDLE_MS, headersTimeoutMs: 20_000, requestTimeoutMs: 30_000 }, refresher: { enabled: false } });
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it('is closed limits.idleTimeoutMs after its last answer', async () => {
    const c = await rawConnect(t.url);
    const answer = await ask(c);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const answeredAt = performance.now();
    const ms = await closedWithin(c, answeredAt, IDLE_MS + 5_000);
    expect(ms).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(ms).toBeLessThan(IDLE_MS + SLACK_MS);
  });
});

describe('connections per client address', () => {
  const PER_ADDRESS = 3;
  const TOTAL = 8;
  let t: Awaited<ReturnType<typeof startTestGate>>;
  let fromOutside: string;
  let fromLoopback: string;
  beforeAll(async () => {
    t = await startTestGate({ limits: { maxConnections: TOTAL, maxConnectionsPerAddress: PER_ADDRESS }, refresher: { enabled: false } });
    const port = new URL(t.url).port;
    fromOutside = `http://127.0.0.1:${port}`;
    fromLoopback = `http://127.0.0.1:${port}`;
    t.gate.app.server.on('connection', (socket: Socket) => serverSockets.set(socket.remotePort!, socket));
  });
  /** The server's end of each connection, by the client's port: its 'close' says the server counted it gone. */
  const serverSockets = new Map<number, Socket>();
  const serverSocketOf = (c: RawConnection): Socket => serverSockets.get(c.socket.localPort!)!;
  afterAll(async () => {
    await t.gate.close();
  });

  it('refuses an address past limits.maxConnectionsPerAddress with a coded 503, and takes it again once one closes', async () => {
    const held = await Promise.all(Array.from({ length: PER_ADDRESS }, () => rawConnect(fromOutside, CLIENT)));
    try {
      for (const c of held) expect(await ask(c)).toMatch(/^HTTP\/1\.1 200 /);
      const extra = await rawConnect(fromOutside, CLIENT);
      await closedWithin(extra, performance.now(), 5_000);
      expect(extra.received()).toMatch(/^HTTP\/1\.1 503 /);
      expect(bodyOf(extra.received())).toMatchObject({ error: { code: 'HG_TOO_MANY_CONNECTIONS' } });

      const gone = held.pop()!;
      const serverSide = serverSocketOf(gone);
      gone.destroy();
      if (!serverSide.closed) await once(serverSide, 'close');
      const again = await rawConnect(fromOutside, CLIENT);
      held.push(again);
      expect(await ask(again)).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const c of held) c.destroy();
    }
  });

  it('a client dripping header bytes on every connection it can open does not lock out a new validator', async () => {
    // As the tester: more connections than the server's cap, each sending a header byte at a time.
    const dripping = await Promise.all(Array.from({ length: TOTAL + 4 }, () => rawConnect(fromOutside, CLIENT)));
    const ports = new Map(dripping.map((c) => [c, c.socket.localPort!]));
    try {
      for (const c of dripping) c.drip(`POST /v1/decisions HTTP/1.1\r\nHost: gate\r\nX-Slow: ${'a'.repeat(500)}\r\n\r\n`, 200);
      // All but PER_ADDRESS of them are answered 503 and closed at once; those go on dripping.
      await untilClosed(dripping, dripping.length - PER_ADDRESS, 5_000);
      expect(dripping.filter((c) => c.socket.destroyed)).toHaveLength(dripping.length - PER_ADDRESS);
      // Their server ends are gone too (those node's total cap dropped never had one), so the count of open connections is down.
      await Promise.all(
        dripping
          .filter((c) => c.socket.destroyed)
          .map((c) => serverSockets.get(ports.get(c)!))
          .map((s) => (s === undefined || s.closed ? undefined : once(s, 'close'))),
      );

      // A validator on another address (here: the host's own 127.0.0.1) still opens a connection and gets its decision.
      const validator = await rawConnect(fromLoopback);
      const body = JSON.stringify({ gate: 'G1', hesCode: 'A1B2345678' });
      const answer = await ask(validator, `POST /v1/decisions HTTP/1.1\r\nHost: gate\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(bodyOf(answer)).toMatchObject({ verdict: 'pass', reason: 'RISKLESS' });
      validator.destroy();

      const metrics = await (await fetch(`${fromLoopback}/metrics`)).text();
      expect(metrics).toMatch(/^hes_gate_connections_refused_total\{why="per_address"\} ([1-9]\d*)$/m);
    } finally {
      for (const c of dripping) c.destroy();
    }
  });
});
