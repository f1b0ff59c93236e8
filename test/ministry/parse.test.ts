import { describe, expect, it } from 'vitest';
import { parseMinistryDate, parseRetryAfterMs } from '../../src/ministry/dates.js';
import { parseBulkOk, parseSingleOk, parseSingleProblem, statusError, transportError } from '../../src/ministry/parse.js';
import { HesGateError } from '../../src/errors.js';
import type { BulkResult } from '../../src/ministry/types.js';

const T = Date.UTC(2021, 2, 1, 20, 59, 59);

describe('parseMinistryDate', () => {
  it.each([
    ['2021-03-01T20:59:59.000Z', T],
    ['2021-03-01T20:59:59Z', T],
    ['2021-03-01T20:59:59', T],
    ['2021-03-01 20:59:59', T],
    ['2021-03-01T20:59:59.5Z', T + 500],
    ['2021-03-01T20:59:59.123456Z', T + 123],
    ['2021-03-01T23:59:59+03:00', T],
    ['2021-03-01T17:59:59-0300', T],
    ['2021-03-01', Date.UTC(2021, 2, 1)],
    ['2070-12-31T20:59:59.000Z', Date.UTC(2070, 11, 31, 20, 59, 59)],
  ])('%s', (text, expected) => expect(parseMinistryDate(text)).toBe(expected));

  it.each([null, undefined, 'null', '', 'yesterday', '2021-02-31T00:00:00Z', '2021-13-01T00:00:00Z', '2021-03-01T24:00:00Z', 1614632399000])(
    'not a date: %s',
    (value) => expect(parseMinistryDate(value)).toBeNull(),
  );
});

describe('parseRetryAfterMs', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  it('reads seconds, HTTP-dates and nonsense', () => {
    expect(parseRetryAfterMs('30', now)).toBe(30_000);
    expect(parseRetryAfterMs(['5', '9'], now)).toBe(5_000);
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 12:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeNull();
    expect(parseRetryAfterMs(undefined, now)).toBeNull();
  });
});

describe('answers the simulator does not produce', () => {
  const code = 'A1B2345678';
  it('a status without a usable expiry, or no status, is a bad response', () => {
    expect(() => parseSingleOk('{"current_health_status":"RISKY"}', false, 'check-hes-code', code)).toThrow(
      expect.objectContaining({ code: 'HG_MINISTRY_BAD_RESPONSE' }),
    );
    expect(() => parseSingleOk('{"expiration_date":"2070-01-01T00:00:00Z"}', false, 'check-hes-code', code)).toThrow(
      expect.objectContaining({ code: 'HG_MINISTRY_BAD_RESPONSE' }),
    );
    expect(() => parseSingleOk('[]', false, 'check-hes-code', code)).toThrow(expect.objectContaining({ code: 'HG_MINISTRY_BAD_RESPONSE' }));
  });

  it('lower-case or padded statuses are unknown, never riskless', () => {
    for (const s of ['riskless', ' RISKLESS', 'RISKSIZ', 42]) {
      const body = JSON.stringify({ current_health_status: s, expiration_date: '2070-01-01T00:00:00Z' });
      expect(() => parseSingleOk(body, false, 'check-hes-code', code)).toThrow(expect.objectContaining({ code: 'HG_MINISTRY_UNKNOWN_STATUS' }));
    }
  });

  it('a problem body without errorKey falls back to its message', () => {
    expect(parseSingleProblem('{"message":"error.hescodenotfound"}', 'check-hes-code', code)).toEqual({ kind: 'not-found' });
    expect(parseSingleProblem('{"errorKey":"HesCodeHasBeenExpired"}', 'check-hes-code', code)).toEqual({ kind: 'expired' });
    expect(() => parseSingleProblem('{}', 'check-hes-code', code)).toThrow(
      expect.objectContaining({ code: 'HG_MINISTRY_UNKNOWN_ERROR', details: expect.objectContaining({ errorKey: null }) }),
    );
    expect(() => parseSingleProblem('Bad Request', 'check-hes-code', code)).toThrow(expect.objectContaining({ code: 'HG_MINISTRY_BAD_RESPONSE' }));
  });

  it('bulk: a code missing from both maps, object-shaped failures, missing maps', () => {
    const into: BulkResult = new Map();
    parseBulkOk(
      JSON.stringify({ success_map: null, unsuccess_map: { C3D4567890: { errorKey: 'hescodehasbeenexpired' } } }),
      ['A1B2345678', 'C3D4567890'],
      false,
      'check-hes-codes',
      into,
    );
    expect((into.get('A1B2345678') as HesGateError).code).toBe('HG_MINISTRY_BAD_RESPONSE');
    expect(into.get('C3D4567890')).toEqual({ kind: 'expired' });
    expect(() => parseBulkOk('{"success_map":[]}', ['A1B2345678'], false, 'check-hes-codes', new Map())).toThrow(
      expect.objectContaining({ code: 'HG_MINISTRY_BAD_RESPONSE' }),
    );
  });

  it('statuses and transport errors map to codes', () => {
    expect(statusError(403, undefined, 'check-hes-code', 0).code).toBe('HG_MINISTRY_AUTH');
    expect(statusError(429, undefined, 'check-hes-code', 0).details).toMatchObject({ retryAfterMs: null });
    expect(statusError(502, undefined, 'check-hes-code', 0).code).toBe('HG_MINISTRY_SERVER_ERROR');
    expect(statusError(301, undefined, 'check-hes-code', 0).code).toBe('HG_MINISTRY_HTTP_STATUS');
    for (const c of ['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']) {
      expect(transportError(Object.assign(new Error('x'), { code: c }), 'check-hes-codes').code).toBe('HG_MINISTRY_TIMEOUT');
    }
    for (const c of ['ECONNRESET', 'ECONNREFUSED', 'UND_ERR_SOCKET', undefined]) {
      expect(transportError(Object.assign(new Error('x'), { code: c }), 'check-hes-codes').code).toBe('HG_MINISTRY_CONNECTION');
    }
  });
});
