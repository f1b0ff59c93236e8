/**
 * The link proxy the vehicle tests and the catch-up bench shape links with, against a real HTTP
 * server and a multi-megabyte file. The throttle is checked in bytes on a clock the test
 * advances (what a 1 Mbit/s link lets through in a second, exactly), not by timing a transfer:
 * real speed is measured in bench/vehicle-catchup.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HIGH_WATER, LinkProxy, type LinkClock } from './link-proxy.js';

/** A clock that moves only when the test says; due timers run in order as it passes them. */
class ManualClock implements LinkClock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= until && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = until;
  }
}

const FILE = randomBytes(4 * 1024 * 1024);
const SMALL = Buffer.from('a small answer\n');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let server: Server;
let port: number;
let proxy: LinkProxy | null = null;

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = req.url === '/file' ? FILE : SMALL;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

const start = async (clock?: LinkClock): Promise<LinkProxy> => (proxy = await LinkProxy.start({ target: { port }, ...(clock === undefined ? {} : { clock }) }));

/** A raw HTTP/1.1 GET: every byte the client got, until the connection ended. */
async function rawGet(p: LinkProxy, path: string): Promise<Buffer> {
  const s = connect({ port: p.port, host: '127.0.0.1' });
  const got: Buffer[] = [];
  s.on('data', (d: Buffer) => got.push(d));
  s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  await once(s, 'close');
  return Buffer.concat(got);
}

describe('the link proxy', () => {
  it('passes a 4 MB file byte for byte and counts the bytes each way', async () => {
    const p = await start();
    const res = await fetch(`${p.url}/file`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(sha(body)).toBe(sha(FILE));
    // The body plus a status line and headers down; one request's line and headers up.
    expect(p.bytes.down).toBeGreaterThan(FILE.length);
    expect(p.bytes.down).toBeLessThan(FILE.length + 1024);
    expect(p.bytes.up).toBeGreaterThan(30);
    expect(p.bytes.up).toBeLessThan(1024);
    expect(p.connections).toBe(1);
    expect(p.requests).toBe(1);
  });

  it('link down resets a download in flight and refuses new connections; up again, it carries them', async () => {
    const clock = new ManualClock();
    const p = await start(clock);
    // Shaped on a clock that does not move: the download stays in flight after its first burst.
    p.throttle(1_000_000);
    const res = await fetch(`${p.url}/file`);
    const body = res.arrayBuffer();
    body.catch(() => {});
    await p.until('the first burst delivered', () => p.bytes.down > 0 && p.queued('down') > 0);
    p.linkDown();
    await expect(body).rejects.toThrow();
    expect(p.open).toBe(0);
    await expect(fetch(`${p.url}/small`)).rejects.toThrow();
    expect(p.refused).toBe(1);
    p.linkUp();
    p.throttle(null);
    const again = await fetch(`${p.url}/file`);
    expect(sha(Buffer.from(await again.arrayBuffer()))).toBe(sha(FILE));
  });

  it('lets exactly a bucket plus rate × time through a 1 Mbit/s lane, reading from the server only as it sends', async () => {
    const clock = new ManualClock();
    const p = await start(clock);
    const burst = 8 * 1460;
    p.throttle(1_000_000, burst);
    let maxQueued = 0;
    p.on('change', () => (maxQueued = Math.max(maxQueued, p.queued('down'))));
    const done = fetch(`${p.url}/file`).then(async (r) => Buffer.from(await r.arrayBuffer()));
    await p.until('the bucket emptied', () => p.bytes.down === burst);
    // 1 Mbit/s = 125,000 bytes a second: in ten steps of 100 ms, each with the lane full enough
    // that it never runs dry, a shaped lane releases 12,500 bytes a step, to within one segment.
    for (let step = 1; step <= 10; step++) {
      await p.until('the lane refilled from the server', () => p.queued('down') > 12_500 + 1460);
      clock.advance(100);
      const allowed = burst + step * 12_500;
      expect(p.bytes.down).toBeLessThanOrEqual(allowed);
      expect(p.bytes.down).toBeGreaterThan(allowed - 1460);
    }
    // Backpressure: the proxy paused reading from the server rather than hold the file.
    expect(maxQueued).toBeLessThanOrEqual(HIGH_WATER + 256 * 1024);
    expect(maxQueued).toBeLessThan(FILE.length / 4);
    // Unshaped again, the rest arrives intact.
    p.throttle(null);
    expect(sha(await done)).toBe(sha(FILE));
  });

  it('delays each direction by the one-way latency it is given: a request and its answer take a round trip', async () => {
    const clock = new ManualClock();
    const p = await start(clock);
    p.delay(50);
    const res = fetch(`${p.url}/small`).then(async (r) => Buffer.from(await r.arrayBuffer()));
    await p.until('the request waits in the proxy', () => p.queued('up') > 0);
    clock.advance(49);
    expect(p.bytes.up).toBe(0);
    clock.advance(1);
    expect(p.bytes.up).toBeGreaterThan(0);
    await p.until('the answer waits in the proxy', () => p.queued('down') > 0);
    expect(p.bytes.down).toBe(0);
    clock.advance(50);
    expect((await res).equals(SMALL)).toBe(true);
  });

  it('closes the next response after K bytes, headers included, and counts it', async () => {
    const p = await start();
    const cuts: number[] = [];
    p.on('truncated', (t: { bytes: number }) => cuts.push(t.bytes));
    p.truncateNext(1_000_003);
    const got = await rawGet(p, '/file');
    expect(got.length).toBe(1_000_003);
    expect(got.subarray(0, 15).toString()).toBe('HTTP/1.1 200 OK');
    const bodyStart = got.indexOf('\r\n\r\n') + 4;
    expect(got.subarray(bodyStart).equals(FILE.subarray(0, got.length - bodyStart))).toBe(true);
    expect(cuts).toEqual([1_000_003]);
    expect(p.truncations).toBe(1);
    // Once: the next response is whole.
    expect((await rawGet(p, '/file')).length).toBeGreaterThan(FILE.length);
  });

  it('lets a response shorter than K end whole, and counts the next one afresh', async () => {
    const p = await start();
    p.truncateNext(SMALL.length + 1024);
    // Two requests on one kept-alive connection: the first answer is shorter than the cut, the
    // second (the whole file) is not cut either: the cut was the first answer's only.
    const s = connect({ port: p.port, host: '127.0.0.1' });
    let got = Buffer.alloc(0);
    // The first answer is whole once its body (it ends the bytes so far) has arrived.
    const firstWhole = new Promise<void>((resolve) =>
      s.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.subarray(-SMALL.length).equals(SMALL)) resolve();
      }),
    );
    s.write('GET /small HTTP/1.1\r\nHost: x\r\n\r\n');
    await firstWhole;
    const first = got.length;
    s.write('GET /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await once(s, 'close');
    expect(got.length - first).toBeGreaterThan(FILE.length);
    expect(p.connections).toBe(1);
    expect(p.truncations).toBe(0);
  });

  it('truncates only the request it is told to, through fetch on a kept-alive connection', async () => {
    const p = await start();
    p.truncateNext(2048, { request: /^GET \/file / });
    expect(Buffer.from(await (await fetch(`${p.url}/small`)).arrayBuffer()).equals(SMALL)).toBe(true);
    expect(p.truncationArmed).toBe(true);
    const res = await fetch(`${p.url}/file`);
    await expect(res.arrayBuffer()).rejects.toThrow();
    expect(p.truncations).toBe(1);
    expect(p.truncationArmed).toBe(false);
  });
});
