/**
 * A vehicle's cellular link, in front of a real HTTP server, driven by the test (issue 23): a TCP
 * proxy (node:net) that can cut every connection and refuse new ones (a tunnel, a depot), shape
 * each direction to N bits per second with a token bucket (1 Mbit/s in the bench) and delay it
 * (a cellular round trip), close the
 * response to the next request after K bytes (a download cut mid-file), and count the bytes that
 * went through. Also used by bench/vehicle-catchup.ts, as bench/city.ts uses test/city/redis-harness.ts.
 *
 * Everything a test waits for is an event (`until()` re-checks on each), never a sleep. The
 * bucket reads an injectable clock, so a test asserts the bytes a throttled link let through in
 * a given time exactly, on a clock it advances, instead of timing a real transfer; the bench
 * measures real speed on the real clock.
 *
 * Truncation reads HTTP/1.1 request lines in clear (no TLS) to know where a response starts: a
 * client that pipelines requests on one connection would confuse it (fetch/undici does not).
 */
import { EventEmitter } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** The clock the token bucket reads and schedules its next release on. */
export interface LinkClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_CLOCK: LinkClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type Direction = 'up' | 'down';

/** A shaped lane releases at most this much at once past an empty bucket: one TCP segment. */
export const SEGMENT = 1460;
/** Reading from a socket pauses while more than this waits in a lane for it (the proxy's memory stays bounded). */
export const HIGH_WATER = 64 * 1024;

interface Pipe {
  conn: Conn;
  dir: Direction;
  src: Socket;
  dst: Socket;
  /** Bytes of this pipe waiting in its lane. */
  queued: number;
}

interface Conn {
  id: number;
  client: Socket;
  upstream: Socket;
  up: Pipe;
  down: Pipe;
  /** Response bytes still allowed before the cut; null: not being truncated. */
  cutLeft: number | null;
  cutTotal: number;
}

/** One direction of the link: a FIFO of chunks released through a token bucket when shaped. */
class Lane {
  /** Bytes per millisecond; null: unshaped. */
  rate: number | null = null;
  burst = 0;
  private tokens = 0;
  private last = 0;
  private timer: unknown = null;
  /** One-way delay: a chunk may leave this many ms after it arrived. */
  delayMs = 0;
  readonly queue: Array<{ pipe: Pipe; chunk: Buffer; at: number }> = [];
  queued = 0;

  constructor(
    private readonly clock: LinkClock,
    private readonly deliver: (pipe: Pipe, chunk: Buffer) => void,
    private readonly onHeld: () => void,
  ) {}

  shape(bitsPerSecond: number | null, burstBytes?: number): void {
    this.cancel();
    if (bitsPerSecond === null) {
      this.rate = null;
    } else {
      if (!(bitsPerSecond > 0)) throw new Error(`link rate must be > 0 bits/s, got ${bitsPerSecond}`);
      this.rate = bitsPerSecond / 8 / 1000;
      // 50 ms worth by default, at least a few segments; a smaller bucket given releases the bytes in smaller slices.
      this.burst = burstBytes === undefined ? Math.max(Math.floor(bitsPerSecond / 8 / 20), 4 * SEGMENT) : Math.max(1, Math.floor(burstBytes));
      this.tokens = this.burst;
      this.last = this.clock.now();
    }
    this.pump();
  }

  push(pipe: Pipe, chunk: Buffer): void {
    this.queue.push({ pipe, chunk, at: this.clock.now() + this.delayMs });
    this.queued += chunk.length;
    pipe.queued += chunk.length;
    this.pump();
  }

  /** Forget what a closed connection had waiting. */
  drop(conn: Conn): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const item = this.queue[i]!;
      if (item.pipe.conn !== conn) continue;
      this.queued -= item.chunk.length;
      item.pipe.queued -= item.chunk.length;
      this.queue.splice(i, 1);
    }
  }

  cancel(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  pump(): void {
    if (this.timer !== null) return;
    if (this.rate !== null) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.rate);
      this.last = now;
    }
    let notYet = 0;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.at > this.clock.now()) {
        notYet = head.at - this.clock.now();
        break;
      }
      const n = this.rate === null ? head.chunk.length : Math.min(Math.floor(this.tokens), head.chunk.length);
      if (n <= 0) break;
      const part = n === head.chunk.length ? head.chunk : head.chunk.subarray(0, n);
      if (n === head.chunk.length) this.queue.shift();
      else head.chunk = head.chunk.subarray(n);
      this.queued -= n;
      head.pipe.queued -= n;
      if (this.rate !== null) this.tokens -= n;
      this.deliver(head.pipe, part);
    }
    if (this.queue.length > 0 && (this.rate !== null || notYet > 0)) {
      const need = Math.min(this.queue[0]!.chunk.length, SEGMENT);
      const wait = Math.max(notYet, this.rate === null ? 0 : Math.ceil((need - this.tokens) / this.rate), 1);
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        this.pump();
      }, wait);
      this.onHeld();
    }
  }
}

export interface LinkProxyOptions {
  /** The server behind the link. */
  target: { host?: string; port: number };
  clock?: LinkClock;
}

export interface TruncateOptions {
  /** Only a request whose line (`GET /path HTTP/1.1`) matches; any request when unset. */
  request?: RegExp;
}

/**
 * Events: `connection` (id), `refused` (a connection made while down), `truncated` ({ id, bytes }),
 * `held` (direction: a shaped lane waits for tokens with data queued), `change` after any of
 * those and after bytes move (what `until()` re-checks on).
 */
export class LinkProxy extends EventEmitter {
  readonly bytes = { up: 0, down: 0 };
  connections = 0;
  /** HTTP requests seen going up (a request line at the start of a chunk). */
  requests = 0;
  refused = 0;
  truncations = 0;
  private isDown = false;
  private nextId = 1;
  private readonly conns = new Set<Conn>();
  private truncate: { after: number; request: RegExp | null } | null = null;
  private readonly lanes: Record<Direction, Lane>;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
    clock: LinkClock,
  ) {
    super();
    const held = (dir: Direction) => (): void => {
      this.emit('held', dir);
      this.emit('change');
    };
    this.lanes = {
      up: new Lane(clock, (p, c) => this.deliver(p, c), held('up')),
      down: new Lane(clock, (p, c) => this.deliver(p, c), held('down')),
    };
    server.on('connection', (s) => this.accept(s));
  }

  static async start(options: LinkProxyOptions): Promise<LinkProxy> {
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as { port: number };
    return new LinkProxy(server, port, { host: options.target.host ?? '127.0.0.1', port: options.target.port }, options.clock ?? REAL_CLOCK);
  }

  /** `http://127.0.0.1:<port>`: the base URL a client uses instead of the server's. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get down(): boolean {
    return this.isDown;
  }

  /** Bytes waiting in a shaped lane. */
  queued(dir: Direction): number {
    return this.lanes[dir].queued;
  }

  /** Open connections through the proxy. */
  get open(): number {
    return this.conns.size;
  }

  /** Link down: every open connection is reset now, and every new one until `linkUp()`. */
  linkDown(): void {
    this.isDown = true;
    for (const c of [...this.conns]) this.cut(c, true);
    this.emit('change');
  }

  linkUp(): void {
    this.isDown = false;
    this.emit('change');
  }

  /** Shape both directions to `bitsPerSecond` each (null: unshaped); `burstBytes` is the bucket's size. */
  throttle(bitsPerSecond: number | null, burstBytes?: number): void {
    this.lanes.up.shape(bitsPerSecond, burstBytes);
    this.lanes.down.shape(bitsPerSecond, burstBytes);
  }

  /** Delay every chunk by `ms` each way (a cellular link's latency: a round trip costs twice this). */
  delay(ms: number): void {
    if (!(ms >= 0)) throw new Error(`delay must be ≥ 0 ms, got ${ms}`);
    this.lanes.up.delayMs = ms;
    this.lanes.down.delayMs = ms;
  }

  /**
   * The response to the next request (matching `request`, when given) is closed after `bytes`
   * bytes of it, status line and headers included: the client gets those, then the connection ends.
   */
  truncateNext(bytes: number, options: TruncateOptions = {}): void {
    if (!(Number.isInteger(bytes) && bytes >= 0)) throw new Error(`truncateNext: bytes must be a whole number ≥ 0, got ${bytes}`);
    this.truncate = { after: bytes, request: options.request ?? null };
  }

  /** True while a truncation waits for its request. */
  get truncationArmed(): boolean {
    return this.truncate !== null;
  }

  /**
   * Resolve once `check()` holds: checked now and after each of the proxy's events. Rejects
   * after `timeoutMs` (a safety net for a broken test, not a wait).
   */
  until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onChange = (): void => {
        if (!check()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`link proxy: ${what} did not happen within ${timeoutMs} ms (bytes up ${this.bytes.up}, down ${this.bytes.down})`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('change', onChange);
      };
      this.on('change', onChange);
    });
  }

  /** Reset every connection and stop listening. */
  async close(): Promise<void> {
    this.lanes.up.cancel();
    this.lanes.down.cancel();
    for (const conn of [...this.conns]) this.cut(conn, true);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private cut(c: Conn, reset: boolean): void {
    if (!this.conns.delete(c)) return;
    this.lanes.up.drop(c);
    this.lanes.down.drop(c);
    if (reset) {
      c.client.resetAndDestroy();
      c.upstream.resetAndDestroy();
    } else {
      c.client.destroy();
      c.upstream.destroy();
    }
    this.emit('change');
  }

  private accept(client: Socket): void {
    if (this.isDown) {
      this.refused++;
      client.on('error', () => {});
      client.resetAndDestroy();
      this.emit('refused');
      this.emit('change');
      return;
    }
    client.setNoDelay(true);
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    const conn = { id: this.nextId++, client, upstream, cutLeft: null, cutTotal: 0 } as unknown as Conn;
    conn.up = { conn, dir: 'up', src: client, dst: upstream, queued: 0 };
    conn.down = { conn, dir: 'down', src: upstream, dst: client, queued: 0 };
    this.conns.add(conn);
    this.connections++;
    // A reset or refused upstream is the client's problem, shown to it as a closed connection.
    const end = (): void => this.cut(conn, false);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      this.armTruncation(conn, chunk);
      this.lanes.up.push(conn.up, chunk);
      this.flow(conn.up);
      this.emit('change');
    });
    upstream.on('data', (chunk: Buffer) => {
      this.lanes.down.push(conn.down, chunk);
      this.flow(conn.down);
      this.emit('change');
    });
    for (const p of [conn.up, conn.down]) p.dst.on('drain', () => this.flow(p));
    this.emit('connection', conn.id);
    this.emit('change');
  }

  /** Read from a pipe's source only while its lane and its destination have room. */
  private flow(p: Pipe): void {
    if (p.queued > HIGH_WATER || p.dst.writableNeedDrain) p.src.pause();
    else p.src.resume();
  }

  private armTruncation(conn: Conn, chunk: Buffer): void {
    const line = /^([A-Z]+ \S+ HTTP\/1\.[01])\r\n/.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 8192)));
    if (line === null) return;
    this.requests++;
    // A new request on a kept-alive connection: the response being cut ended before K bytes.
    conn.cutLeft = null;
    const t = this.truncate;
    if (t === null) return;
    if (t.request !== null && !t.request.test(line[1]!)) return;
    this.truncate = null;
    conn.cutLeft = t.after;
    conn.cutTotal = t.after;
  }

  private deliver(p: Pipe, chunk: Buffer): void {
    const conn = p.conn;
    if (!this.conns.has(conn)) return;
    if (p.dir === 'down' && conn.cutLeft !== null) {
      const part = chunk.subarray(0, conn.cutLeft);
      conn.cutLeft -= part.length;
      this.bytes.down += part.length;
      if (conn.cutLeft === 0) {
        // The bytes before the cut reach the client, then the connection ends as a dropped link's would.
        this.conns.delete(conn);
        this.lanes.up.drop(conn);
        this.lanes.down.drop(conn);
        conn.upstream.destroy();
        conn.client.end(part, () => conn.client.destroy());
        this.truncations++;
        this.emit('truncated', { id: conn.id, bytes: conn.cutTotal });
        this.emit('change');
        return;
      }
      p.dst.write(part);
    } else {
      this.bytes[p.dir] += chunk.length;
      p.dst.write(chunk);
    }
    this.flow(p);
    this.emit('change');
  }
}
