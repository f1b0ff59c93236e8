/**
 * The ministry simulator: a `node:http(s)` server speaking the HES G2G protocol on both real
 * path prefixes, with the bundled sample codes, fault knobs and a control API. Operators rehearse
 * with it for weeks before they get credentials; tests and benchmarks use it as the ministry.
 *
 *   POST /services/g2g[/test]/saglik/hes/<endpoint>
 *     ─> read body ─> count, emit 'request' ─> reset? hang? ─> 401 (rejectAuth or Basic auth)
 *     ─> 429? status? failRate? ─> prepared answer (answers.ts) ─> spoil body? ─> latency? ─> write
 *   /_simulator/...  ─> control API (control.ts), never subject to faults
 */
import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Clock } from '../types.js';
import { MINISTRY_ENDPOINTS, type MinistryEndpoint } from '../ministry/types.js';
import { httpProblem, ministryAnswer, prepareCode, requestCodes, type PreparedCode } from './answers.js';
import { defaultFaults, validateFaults, type Faults } from './faults.js';
import { loadSampleCodes, sampleCodes, validateSampleCode, type SampleCode } from './sample-codes.js';
import { checkControlToken, handleControl } from './control.js';
import { JSON_TYPE, parseJson, readBody, send } from './http.js';

import { SIMULATOR_PASSWORD, SIMULATOR_USER } from '../ministry/simulator-credentials.js';

export { SIMULATOR_PASSWORD, SIMULATOR_USER };

export const TEST_PREFIX = '/services/g2g/test/saglik/hes/';
export const LIVE_PREFIX = '/services/g2g/saglik/hes/';
const GARBAGE =
  '<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. Please consult with your administrator.</body></html>';

const ENDPOINTS = new Set<string>(MINISTRY_ENDPOINTS);

export interface SimulatorOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 picks a free one (see `port` on the result). @default 0 */
  port?: number;
  /** Accepted Basic credentials. @default [{ user: SIMULATOR_USER, password: SIMULATOR_PASSWORD }] */
  users?: ReadonlyArray<{ user: string; password: string }>;
  /** The codes it knows. @default the bundled set (`sampleCodes`), or `codesFile` when given */
  codes?: readonly SampleCode[];
  /** A JSON file of `SampleCode[]` to use instead of the bundled set (ignored when `codes` is given). */
  codesFile?: string;
  /** Serve HTTPS with this key and certificate (PEM). @default plain HTTP */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Clock (epoch ms) for relative sample dates and HTTP-date `Retry-After`. @default Date.now */
  clock?: Clock;
  /**
   * Bearer token the control API (`/_simulator/*`) requires; it answers only loopback peers
   * even then. @default none: the control API is off (401), and faults change only in-process
   */
  controlToken?: string;
}

export interface SimulatorCounts {
  /** Requests to ministry paths (any answer, faults included). */
  total: number;
  byPath: Record<MinistryEndpoint, number>;
  /** Times each code of the simulator's set was asked (single and bulk). */
  byCode: Record<string, number>;
  /** Codes asked that are not in the set (not kept one by one: they may be real people's codes). */
  unknownCodes: number;
  /** TCP connections accepted (keep-alive reuse shows as few connections for many requests). */
  connections: number;
}

/**
 * Payload of the `'request'` event, emitted for every ministry request once its body has arrived,
 * before faults and authentication apply (so tests can wait on a hung or refused request too).
 */
export interface SimulatorRequestEvent {
  endpoint: MinistryEndpoint;
  codes: string[];
}

export interface Simulator extends EventEmitter {
  /** Base URL with the test prefix, trailing slash. */
  readonly url: string;
  /** Base URL with the live prefix, trailing slash. */
  readonly liveUrl: string;
  /** `http(s)://host:port`. */
  readonly origin: string;
  readonly port: number;
  /** The fault knobs now in force (a copy). */
  readonly faults: Faults;
  /** Changes some knobs, keeps the others; throws a TypeError for a bad value. */
  setFaults(partial: Partial<Faults>): Faults;
  resetFaults(): void;
  counts(): SimulatorCounts;
  resetCounts(): void;
  /** Adds or replaces a code while running (for example, turn a code RISKY). */
  setCode(code: string, sample: Omit<SampleCode, 'code'> & { code?: string }): void;
  /** Forgets a code: it then answers "not found". Returns whether it was known. */
  removeCode(code: string): boolean;
  /** The codes it knows. */
  codes(): SampleCode[];
  /** Stops listening and destroys every connection, hung ones included. */
  close(): Promise<void>;
}

function emptyByPath(): Record<MinistryEndpoint, number> {
  return {
    'check-hes-code': 0,
    'check-hes-code-plus': 0,
    'check-hes-codes': 0,
    'check-hes-codes-plus': 0,
    'check-employee-hes-code': 0,
    'check-visitor-hes-code': 0,
  };
}

function endpointOf(path: string): MinistryEndpoint | null {
  let rest: string;
  if (path.startsWith(TEST_PREFIX)) rest = path.slice(TEST_PREFIX.length);
  else if (path.startsWith(LIVE_PREFIX)) rest = path.slice(LIVE_PREFIX.length);
  else return null;
  return ENDPOINTS.has(rest) ? (rest as MinistryEndpoint) : null;
}

class MinistrySimulator extends EventEmitter implements Simulator {
  readonly #server: Server;
  readonly #tls: boolean;
  readonly #known = new Map<string, { sample: SampleCode; prepared: PreparedCode }>();
  readonly #auth: Set<string>;
  readonly #clock: Clock;
  readonly #controlToken: string | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #faults: Faults = defaultFaults();
  #failCounter = 0;
  #total = 0;
  #byPath = emptyByPath();
  #byCode = new Map<string, number>();
  #unknownCodes = 0;
  #connections = 0;
  #host = '127.0.0.1';
  #port = 0;
  #closed: Promise<void> | null = null;
  readonly #lookup = (code: string): PreparedCode | undefined => this.#known.get(code)?.prepared;

  constructor(o: SimulatorOptions) {
    super();
    this.#clock = o.clock ?? Date.now;
    if (o.controlToken !== undefined) checkControlToken(o.controlToken);
    this.#controlToken = o.controlToken;
    const users = o.users ?? [{ user: SIMULATOR_USER, password: SIMULATOR_PASSWORD }];
    this.#auth = new Set(users.map((u) => `Basic ${Buffer.from(`${u.user}:${u.password}`, 'utf8').toString('base64')}`));
    const codes = o.codes ?? (o.codesFile === undefined ? sampleCodes(this.#clock()) : loadSampleCodes(o.codesFile));
    for (const c of codes) this.setCode(c.code, c);
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.#onRequest(req, res);
    this.#tls = o.tls !== undefined;
    this.#server = o.tls === undefined ? createHttpServer(handler) : createHttpsServer({ key: o.tls.key, cert: o.tls.cert }, handler);
    this.#server.on('connection', (socket: Socket) => {
      this.#connections++;
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      this.emit('connection');
    });
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address !== null ? address.port : port;
    this.#host = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  }

  get origin(): string {
    return `${this.#tls ? 'https' : 'http'}://${this.#host}:${this.#port}`;
  }
  get url(): string {
    return this.origin + TEST_PREFIX;
  }
  get liveUrl(): string {
    return this.origin + LIVE_PREFIX;
  }
  get port(): number {
    return this.#port;
  }
  get faults(): Faults {
    return { ...this.#faults };
  }

  setFaults(partial: Partial<Faults>): Faults {
    const valid = validateFaults(partial);
    if (valid.failRate !== undefined) this.#failCounter = 0;
    this.#faults = { ...this.#faults, ...valid };
    return this.faults;
  }
  resetFaults(): void {
    this.#faults = defaultFaults();
    this.#failCounter = 0;
  }

  counts(): SimulatorCounts {
    return {
      total: this.#total,
      byPath: { ...this.#byPath },
      byCode: Object.fromEntries(this.#byCode),
      unknownCodes: this.#unknownCodes,
      connections: this.#connections,
    };
  }
  resetCounts(): void {
    this.#total = 0;
    this.#byPath = emptyByPath();
    this.#byCode.clear();
    this.#unknownCodes = 0;
    this.#connections = 0;
  }

  setCode(code: string, sample: Omit<SampleCode, 'code'> & { code?: string }): void {
    if (sample.code !== undefined && sample.code !== code) throw new TypeError('the sample code\'s code must match the code it is set for');
    const valid = validateSampleCode({ ...sample, code });
    this.#known.set(code, { sample: valid, prepared: prepareCode(valid) });
  }
  removeCode(code: string): boolean {
    return this.#known.delete(code);
  }
  codes(): SampleCode[] {
    return [...this.#known.values()].map((k) => k.sample);
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      for (const t of this.#timers) clearTimeout(t);
      this.#timers.clear();
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
    return this.#closed;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    if (path.startsWith('/_simulator/')) {
      handleControl(this, req, res, path, this.#controlToken);
      return;
    }
    const endpoint = endpointOf(path);
    if (endpoint === null) {
      req.resume();
      send(res, 404, httpProblem(404, 'Not Found', 'No endpoint at this path', path));
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      send(res, 405, httpProblem(405, 'Method Not Allowed', `Request method '${req.method ?? ''}' not supported`, path), JSON_TYPE, { allow: 'POST' });
      return;
    }
    readBody(req, res, (text) => this.#answer(req, res, endpoint, path, text));
  }

  #answer(req: IncomingMessage, res: ServerResponse, endpoint: MinistryEndpoint, path: string, text: string): void {
    const body = parseJson(text);
    const bulk = endpoint === 'check-hes-codes' || endpoint === 'check-hes-codes-plus';
    const codes = requestCodes(body, bulk);
    this.#count(endpoint, codes);
    if (this.listenerCount('request') > 0) this.emit('request', { endpoint, codes } satisfies SimulatorRequestEvent);

    const f = this.#faults;
    if (f.reset) {
      req.socket.destroy();
      return;
    }
    if (f.hang) return;

    let status: number;
    let payload: string;
    let extra: Record<string, string> | undefined;
    if (f.rejectAuth || !this.#auth.has(req.headers.authorization ?? '')) {
      status = 401;
      payload = httpProblem(401, 'Unauthorized', 'Full authentication is required to access this resource', path);
      extra = { 'www-authenticate': 'Basic realm="Realm"' };
    } else if (f.rateLimit !== null) {
      status = 429;
      payload = httpProblem(429, 'Too Many Requests', 'Rate limit exceeded', path);
      const s = f.rateLimit.retryAfterSeconds;
      extra = { 'retry-after': f.rateLimit.httpDate === true ? new Date(this.#clock() + s * 1000).toUTCString() : String(s) };
    } else if (f.status !== null) {
      status = f.status;
      payload = httpProblem(f.status, 'Simulated failure', 'The simulator was told to answer this status', path);
    } else if (f.failRate > 0 && this.#failNow(f.failRate)) {
      status = 503;
      payload = httpProblem(503, 'Service Unavailable', 'Simulated intermittent failure', path);
    } else {
      [status, payload] = ministryAnswer(endpoint, path, body, codes, this.#lookup);
    }

    let type = JSON_TYPE;
    if (f.body === 'truncated') payload = payload.slice(0, Math.max(1, payload.length >> 1));
    else if (f.body === 'garbage') {
      payload = GARBAGE;
      type = 'text/html';
    }
    if (f.latencyMs > 0) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        send(res, status, payload, type, extra);
      }, f.latencyMs);
      this.#timers.add(timer);
    } else {
      send(res, status, payload, type, extra);
    }
  }

  #count(endpoint: MinistryEndpoint, codes: string[]): void {
    this.#total++;
    this.#byPath[endpoint]++;
    for (const c of codes) {
      if (this.#known.has(c)) this.#byCode.set(c, (this.#byCode.get(c) ?? 0) + 1);
      else this.#unknownCodes++;
    }
  }

  /** Deterministic share: request n fails when floor(n·rate) steps up, so exactly `rate` of them fail. */
  #failNow(rate: number): boolean {
    const n = ++this.#failCounter;
    return Math.floor(n * rate) !== Math.floor((n - 1) * rate);
  }
}

/** Starts the simulator and resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new MinistrySimulator(options);
  await sim.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return sim;
}
