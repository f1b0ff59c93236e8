/**
 * The ministry's HES G2G service over HTTP: one undici Pool to its origin, keep-alive
 * connections, HTTP Basic on every request, and every answer mapped to a `MinistryLookup`
 * or a coded `HesGateError` (parse.ts).
 *
 *   checkHesCode(code) ─> POST <base>check-hes-code {"hes_code"} ─> pool (keep-alive) ─> parse
 *                                                                          └─> onCall(event)
 *
 * This is called on every cache miss: one request, one body read, one parse; no retries here
 * (the guard in guard.ts decides about retries and pauses), no aborts (an aborted HTTP/1.1
 * request costs its connection; the timeouts below bound every call instead).
 */
import { rootCertificates } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { HesGateError } from '../errors.js';
import type { Clock, MinistryLookup } from '../types.js';
import { MINISTRY_BULK_LIMIT, MINISTRY_ENDPOINTS, type BulkResult, type CallOutcome, type MinistryCallEvent, type MinistryClient, type MinistryEndpoint, type VisitorDetails } from './types.js';
import { bulkProblemError, parseBulkOk, parseSingleOk, parseSingleProblem, statusError, transportError } from './parse.js';

export interface MinistryClientOptions {
  /**
   * Base URL including the environment's path prefix, for example
   * `https://hesservis.turkiye.gov.tr/services/g2g/test/saglik/hes/`. Endpoint names are appended
   * (a missing trailing slash is added).
   */
  baseUrl: string;
  /** Ministry user name (for example `ORG-TEST`). Sent in the Basic header only, never logged. */
  user: string;
  /** Ministry password. Sent in the Basic header only, never logged or put in an error. */
  password: string;
  /** Keep-alive connections in the pool (also the most calls in flight at once). @default 8 */
  connections?: number;
  /** Time to establish a TCP (and TLS) connection, in ms. @default 1000 */
  connectTimeoutMs?: number;
  /**
   * Time from sending a request to receiving the answer's headers, in ms. undici checks this
   * timer on a coarse tick (about every 500 ms), so it fires up to ~1 s late: it bounds a call,
   * it is not a deadline (the status service keeps the gate's deadline). @default 2000
   */
  headersTimeoutMs?: number;
  /** Longest pause between two chunks of an answer's body, in ms (same coarse tick). @default 2000 */
  bodyTimeoutMs?: number;
  /**
   * An extra CA certificate (PEM) to trust, in addition to the system's roots: a
   * TLS-intercepting proxy, or the simulator's test certificate. @default none
   */
  ca?: string | Buffer;
  /** Called once after every HTTP call (success or not). Exceptions it throws are ignored. */
  onCall?: (e: MinistryCallEvent) => void;
  /**
   * Wall clock (epoch ms), used to turn a `Retry-After` HTTP-date into a delay. Durations in
   * `onCall` use the monotonic `performance.now()` instead. @default Date.now
   */
  clock?: Clock;
}

/** Creates a client; it opens connections lazily, on the first call. */
export function createMinistryClient(options: MinistryClientOptions): MinistryClient {
  return new UndiciMinistryClient(options);
}

function singleBody(code: string): string {
  return `{"hes_code":${JSON.stringify(code)}}`;
}

class UndiciMinistryClient implements MinistryClient {
  readonly #pool: Pool;
  readonly #paths: Record<MinistryEndpoint, string>;
  readonly #headers: Record<string, string>;
  readonly #onCall: ((e: MinistryCallEvent) => void) | undefined;
  readonly #clock: Clock;
  #closed: Promise<void> | null = null;

  constructor(o: MinistryClientOptions) {
    let base: URL;
    try {
      base = new URL(o.baseUrl);
    } catch {
      // The URL itself is not repeated: a pasted URL can carry a user and password.
      throw new HesGateError('HG_CONFIG_INVALID', 'ministry.baseUrl is not a URL (expected for example https://host/services/g2g/test/saglik/hes/)');
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new HesGateError('HG_CONFIG_INVALID', `ministry.baseUrl must be http or https, not ${base.protocol.replace(/[^a-z]/g, '')}`);
    }
    const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    this.#paths = Object.fromEntries(MINISTRY_ENDPOINTS.map((e) => [e, prefix + e])) as Record<MinistryEndpoint, string>;
    this.#headers = {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Basic ${Buffer.from(`${o.user}:${o.password}`, 'utf8').toString('base64')}`,
    };
    this.#onCall = o.onCall;
    this.#clock = o.clock ?? Date.now;
    this.#pool = new Pool(base.origin, {
      connections: o.connections ?? 8,
      headersTimeout: o.headersTimeoutMs ?? 2000,
      bodyTimeout: o.bodyTimeoutMs ?? 2000,
      connect: {
        timeout: o.connectTimeoutMs ?? 1000,
        ...(o.ca === undefined ? {} : { ca: [...rootCertificates, o.ca] }),
      },
    });
  }

  checkHesCode(code: string): Promise<MinistryLookup> {
    return this.#single('check-hes-code', code, singleBody(code), false);
  }

  checkHesCodePlus(code: string): Promise<MinistryLookup> {
    return this.#single('check-hes-code-plus', code, singleBody(code), true);
  }

  checkEmployeeHesCode(code: string): Promise<MinistryLookup> {
    return this.#single('check-employee-hes-code', code, singleBody(code), false);
  }

  checkVisitorHesCode(code: string, visitor: VisitorDetails): Promise<MinistryLookup> {
    const body: Record<string, unknown> = {
      hes_code: code,
      city: visitor.city,
      district: visitor.district,
      explicit_address: visitor.explicitAddress,
    };
    if (visitor.location !== undefined) {
      body['location'] = { latitude: visitor.location.latitude, longitude: visitor.location.longitude };
    }
    return this.#single('check-visitor-hes-code', code, JSON.stringify(body), false);
  }

  checkHesCodes(codes: readonly string[]): Promise<BulkResult> {
    return this.#bulk('check-hes-codes', codes, false);
  }

  checkHesCodesPlus(codes: readonly string[]): Promise<BulkResult> {
    return this.#bulk('check-hes-codes-plus', codes, true);
  }

  /** Waits for calls in flight, then closes the connections. Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= this.#pool.close();
    return this.#closed;
  }

  async #single(endpoint: MinistryEndpoint, code: string, body: string, plus: boolean): Promise<MinistryLookup> {
    const started = performance.now();
    let outcome: CallOutcome = 'ok';
    try {
      const res = await this.#pool.request({ path: this.#paths[endpoint], method: 'POST', headers: this.#headers, body });
      let lookup: MinistryLookup;
      if (res.statusCode === 200) {
        lookup = parseSingleOk(await res.body.text(), plus, endpoint, code);
      } else if (res.statusCode === 400) {
        lookup = parseSingleProblem(await res.body.text(), endpoint, code);
      } else {
        await discard(res.body);
        throw statusError(res.statusCode, res.headers['retry-after'], endpoint, this.#clock());
      }
      if (lookup.kind !== 'status') outcome = lookup.kind;
      return lookup;
    } catch (err) {
      const e = err instanceof HesGateError ? err : transportError(err, endpoint);
      outcome = e.code;
      throw e;
    } finally {
      this.#report(endpoint, outcome, started, 1);
    }
  }

  async #bulk(endpoint: MinistryEndpoint, codes: readonly string[], plus: boolean): Promise<BulkResult> {
    const result: BulkResult = new Map();
    const unique = [...new Set(codes)];
    for (let i = 0; i < unique.length; i += MINISTRY_BULK_LIMIT) {
      await this.#bulkChunk(endpoint, unique.slice(i, i + MINISTRY_BULK_LIMIT), plus, result);
    }
    return result;
  }

  async #bulkChunk(endpoint: MinistryEndpoint, chunk: string[], plus: boolean, into: BulkResult): Promise<void> {
    const started = performance.now();
    let outcome: CallOutcome = 'ok';
    try {
      const body = JSON.stringify(chunk.map((hes_code) => ({ hes_code })));
      const res = await this.#pool.request({ path: this.#paths[endpoint], method: 'POST', headers: this.#headers, body });
      if (res.statusCode === 200) {
        parseBulkOk(await res.body.text(), chunk, plus, endpoint, into);
      } else if (res.statusCode === 400) {
        throw bulkProblemError(await res.body.text(), endpoint);
      } else {
        await discard(res.body);
        throw statusError(res.statusCode, res.headers['retry-after'], endpoint, this.#clock());
      }
    } catch (err) {
      const e = err instanceof HesGateError ? err : transportError(err, endpoint);
      outcome = e.code;
      throw e;
    } finally {
      this.#report(endpoint, outcome, started, chunk.length);
    }
  }

  #report(endpoint: MinistryEndpoint, outcome: CallOutcome, started: number, codes: number): void {
    if (this.#onCall === undefined) return;
    try {
      this.#onCall({ endpoint, outcome, durationMs: performance.now() - started, codes });
    } catch {
      // An observer must not change the outcome of a call.
    }
  }
}

/** Reads an unwanted body to its end so the connection can serve the next request. */
async function discard(body: { dump(): Promise<void> }): Promise<void> {
  try {
    await body.dump();
  } catch {
    // The status already says what went wrong; a broken connection is the pool's to replace.
  }
}
