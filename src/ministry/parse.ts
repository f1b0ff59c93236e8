/**
 * From the ministry's answers to `MinistryLookup`s and coded errors. Pure functions: the client
 * (client.ts) does the HTTP and hands the status, headers and body text here.
 *
 *   200 one result ─────────> status (+ plus fields)      │  401/403 ─> HG_MINISTRY_AUTH
 *   200 bulk maps ──────────> Map<code, lookup | error>   │  429 ─────> HG_MINISTRY_RATE_LIMITED
 *   400 problem, errorKey ──> not-found | expired | error │  5xx ─────> HG_MINISTRY_SERVER_ERROR
 *                                                         │  other ───> HG_MINISTRY_HTTP_STATUS
 *
 * Masked identity and names in results are dropped here: nothing downstream needs them.
 * Error messages carry masked codes only; parser errors (which quote the body) are not kept
 * as causes, because a body can hold full codes.
 */
import { HesGateError, type ErrorCode } from '../errors.js';
import { maskHesCode } from '../privacy/mask.js';
import type { HealthStatus, MinistryLookup, PlusFields } from '../types.js';
import type { BulkResult, MinistryEndpoint } from './types.js';
import { parseMinistryDate, parseRetryAfterMs } from './dates.js';
import { scanBulkAnswer, type BulkMaps } from './bulk-json.js';

const NOT_FOUND: MinistryLookup = Object.freeze({ kind: 'not-found' });
const EXPIRED: MinistryLookup = Object.freeze({ kind: 'expired' });

function ministryError(
  code: ErrorCode,
  endpoint: MinistryEndpoint,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): HesGateError {
  return new HesGateError(code, `ministry ${endpoint}: ${message}`, { cause, details: { endpoint, ...details } });
}

/** A value from the ministry that may appear in a message: short tokens only, else a placeholder. */
function printable(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9._-]{1,40}$/.test(value) ? value : '(unprintable)';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `true`, `false`, `"true"`, `"false"` → boolean; `null`, `"null"` and anything else → null (no consent). */
function flag(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return null;
}

/**
 * One result object (a single answer, or a value of a bulk `success_map`) → a lookup, or the
 * error for this code. Returns the error rather than throwing so bulk calls can keep going.
 */
function resultToLookup(
  raw: unknown,
  plus: boolean,
  endpoint: MinistryEndpoint,
  code: string,
): MinistryLookup | HesGateError {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return ministryError('HG_MINISTRY_BAD_RESPONSE', endpoint, `the result for ${maskHesCode(code)} is not an object`);
  }
  const r = raw as Record<string, unknown>;
  const s = r['current_health_status'];
  if (s !== 'RISKLESS' && s !== 'RISKY') {
    if (s === undefined || s === null) {
      return ministryError('HG_MINISTRY_BAD_RESPONSE', endpoint, `the result for ${maskHesCode(code)} has no current_health_status`);
    }
    return ministryError(
      'HG_MINISTRY_UNKNOWN_STATUS',
      endpoint,
      `unknown health status ${printable(s)} for ${maskHesCode(code)} (expected RISKLESS or RISKY; not treated as riskless)`,
      { healthStatus: printable(s) },
    );
  }
  const status: HealthStatus = s;
  const expiresAt = parseMinistryDate(r['expiration_date']);
  if (expiresAt === null) {
    return ministryError('HG_MINISTRY_BAD_RESPONSE', endpoint, `the result for ${maskHesCode(code)} has no readable expiration_date`);
  }
  if (!plus) return { kind: 'status', status, expiresAt };
  const fields: PlusFields = {
    isVaccinated: flag(r['is_vaccinated']),
    isImmune: flag(r['is_immune']),
    isTestDataShared: flag(r['is_test_data_shared']),
    lastNegativeTestAt: parseMinistryDate(r['last_negative_test_date']),
  };
  return { kind: 'status', status, expiresAt, plus: fields };
}

/** 200 with one result. Throws HesGateError. */
export function parseSingleOk(text: string, plus: boolean, endpoint: MinistryEndpoint, code: string): MinistryLookup {
  const raw = parseJson(text);
  if (raw === undefined) {
    throw ministryError('HG_MINISTRY_BAD_RESPONSE', endpoint, `the answer for ${maskHesCode(code)} is not JSON`);
  }
  const lookup = resultToLookup(raw, plus, endpoint, code);
  if (lookup instanceof HesGateError) throw lookup;
  return lookup;
}

/**
 * The `errorKey` of a 400 problem body (lower case), falling back to `message: "error.<key>"`.
 * Null: JSON without a key; undefined: not JSON at all.
 */
function problemKey(text: string): string | null | undefined {
  const raw = parseJson(text);
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object') return null;
  const p = raw as Record<string, unknown>;
  if (typeof p['errorKey'] === 'string') return p['errorKey'].trim().toLowerCase();
  const m = p['message'];
  if (typeof m === 'string' && m.startsWith('error.')) return m.slice(6).trim().toLowerCase();
  return null;
}

function problemFields(text: string): string[] | undefined {
  const raw = parseJson(text) as { fieldErrors?: unknown } | null | undefined;
  if (raw === null || typeof raw !== 'object' || !Array.isArray(raw.fieldErrors)) return undefined;
  return raw.fieldErrors.map((f: { field?: unknown }) => printable(f?.field));
}

function errorKeyLookup(key: string): MinistryLookup | null {
  if (key === 'hescodenotfound') return NOT_FOUND;
  if (key === 'hescodehasbeenexpired') return EXPIRED;
  return null;
}

/** 400 on a single-code endpoint: not found, expired, or an error. Throws HesGateError. */
export function parseSingleProblem(text: string, endpoint: MinistryEndpoint, code: string): MinistryLookup {
  const key = problemKey(text);
  if (key === undefined) {
    throw ministryError('HG_MINISTRY_BAD_RESPONSE', endpoint, `HTTP 400 for ${maskHesCode(code)} without a JSON problem body`, { status: 400 });
  }
  const lookup = key === null ? null : errorKeyLookup(key);
  if (lookup !== null) return lookup;
  throw unknownErrorKey(text, key, endpoint, `for ${maskHesCode(code)}`);
}

/** 400 on a bulk endpoint: the whole chunk was refused. */
export function bulkProblemError(text: string, endpoint: MinistryEndpoint): HesGateError {
  const key = problemKey(text);
  if (key === undefined) {
    return ministryError('HG_MINISTRY_BAD_RESPONSE', endpoint, 'HTTP 400 for a bulk request without a JSON problem body', { status: 400 });
  }
  return unknownErrorKey(text, key, endpoint, 'for a bulk request');
}

function unknownErrorKey(text: string, key: string | null, endpoint: MinistryEndpoint, what: string): HesGateError {
  const errorKey = key === null ? null : printable(key);
  const fields = problemFields(text);
  return ministryError(
    'HG_MINISTRY_UNKNOWN_ERROR',
    endpoint,
    `HTTP 400 ${what} with errorKey ${errorKey ?? '(none)'}${fields === undefined ? '' : ` (fields: ${fields.join(', ')})`}`,
    fields === undefined ? { status: 400, errorKey } : { status: 400, errorKey, fields },
  );
}

const EMPTY: ReadonlyMap<string, unknown> = new Map();

/** The bulk answer's maps through `JSON.parse`: what the scanner (bulk-json.ts) leaves to it. Throws HesGateError. */
function bulkMapsOf(text: string, endpoint: MinistryEndpoint): BulkMaps {
  const raw = parseJson(text);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw ministryError('HG_MINISTRY_BAD_RESPONSE', endpoint, 'the bulk answer is not a JSON object');
  }
  const success = (raw as Record<string, unknown>)['success_map'] ?? {};
  const unsuccess = (raw as Record<string, unknown>)['unsuccess_map'] ?? {};
  if (typeof success !== 'object' || Array.isArray(success) || typeof unsuccess !== 'object' || Array.isArray(unsuccess)) {
    throw ministryError('HG_MINISTRY_BAD_RESPONSE', endpoint, 'success_map and unsuccess_map must be objects');
  }
  return { success: new Map(Object.entries(success)), unsuccess: new Map(Object.entries(unsuccess)) };
}

/**
 * 200 bulk answer: fills `into` with one entry per asked code. Throws HesGateError when the
 * body as a whole is unreadable; a code the answer does not mention gets its own error.
 */
export function parseBulkOk(
  text: string,
  asked: readonly string[],
  plus: boolean,
  endpoint: MinistryEndpoint,
  into: BulkResult,
): void {
  const maps = scanBulkAnswer(text) ?? bulkMapsOf(text, endpoint);
  const ok = maps.success ?? EMPTY;
  const failed = maps.unsuccess ?? EMPTY;
  for (const code of asked) {
    const result = ok.get(code);
    if (result !== undefined) {
      into.set(code, resultToLookup(result, plus, endpoint, code));
      continue;
    }
    const reason = failed.get(code);
    if (reason === undefined) {
      into.set(code, ministryError('HG_MINISTRY_BAD_RESPONSE', endpoint, `the bulk answer does not mention ${maskHesCode(code)}`));
      continue;
    }
    // Seen as a bare errorKey string; a problem object is tolerated too.
    const rawKey = typeof reason === 'string' ? reason : (reason as { errorKey?: unknown } | null)?.errorKey;
    const key = typeof rawKey === 'string' ? rawKey.trim().toLowerCase() : null;
    const lookup = key === null ? null : errorKeyLookup(key);
    into.set(
      code,
      lookup ??
        ministryError('HG_MINISTRY_UNKNOWN_ERROR', endpoint, `errorKey ${key === null ? '(none)' : printable(key)} for ${maskHesCode(code)}`, {
          errorKey: key === null ? null : printable(key),
        }),
    );
  }
}

/** Any status other than 200 and 400. The body has already been discarded. */
export function statusError(
  status: number,
  retryAfter: string | string[] | undefined,
  endpoint: MinistryEndpoint,
  now: number,
): HesGateError {
  if (status === 401 || status === 403) {
    return ministryError(
      'HG_MINISTRY_AUTH',
      endpoint,
      `the ministry refused the credentials (HTTP ${status}): check the user name and password configured for this environment`,
      { status },
    );
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfterMs(retryAfter, now);
    return ministryError(
      'HG_MINISTRY_RATE_LIMITED',
      endpoint,
      `rate limited (HTTP 429)${retryAfterMs === null ? '' : `, retry after ${retryAfterMs} ms`}`,
      { status, retryAfterMs },
    );
  }
  if (status >= 500 && status <= 599) {
    return ministryError('HG_MINISTRY_SERVER_ERROR', endpoint, `server error (HTTP ${status})`, { status });
  }
  return ministryError(
    'HG_MINISTRY_HTTP_STATUS',
    endpoint,
    `unexpected HTTP ${status}${status === 404 ? ' (is the base URL, including its path prefix, right?)' : ''}`,
    { status },
  );
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** An error thrown by undici or the socket (refused, reset, timed out, TLS) → a coded error. */
export function transportError(err: unknown, endpoint: MinistryEndpoint): HesGateError {
  const code = (err as { code?: unknown } | null)?.code;
  const name = typeof code === 'string' ? printable(code) : 'unknown';
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return ministryError('HG_MINISTRY_TIMEOUT', endpoint, `no answer in time (${name})`, { transportCode: name }, err);
  }
  return ministryError('HG_MINISTRY_CONNECTION', endpoint, `the connection failed (${name})`, { transportCode: name }, err);
}
