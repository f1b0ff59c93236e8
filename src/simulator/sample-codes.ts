/**
 * The simulator's codes: one for every status and finding the ministry is known to give, and
 * for each quirk of its answers, so operators can rehearse every gate outcome before they have
 * credentials. None of them is a real person's code. Any code not in the set is "not found".
 *
 * A JSON file of the same shape (`SampleCode[]`) can replace the set (`loadSampleCodes`).
 */
import { readFileSync } from 'node:fs';
import { HesGateError } from '../errors.js';
import { isNormalizedHesCode } from '../credentials/hes-code.js';

/** A plus field as the ministry writes it: booleans, their string forms, `null` or `"null"`. */
export type RawPlusValue = boolean | string | null;

/** What the simulator answers for one code. Field values are raw, exactly as sent on the wire. */
export interface SampleCode {
  /** 10 upper-case letters or digits, as the client sends it (no dashes). */
  code: string;
  /** `current_health_status`: `RISKLESS`, `RISKY`, or anything else to rehearse an unknown status. */
  status?: string;
  /** `expiration_date` exactly as sent. @default '2070-12-31T20:59:59.000Z' (shared without limit) */
  expirationDate?: string;
  /** When set, the code answers HTTP 400 with this `errorKey` (status is then ignored). */
  errorKey?: string;
  /** Fields of the plus endpoints; absent ones are sent as `null` (no consent). */
  plus?: {
    is_vaccinated?: RawPlusValue;
    is_immune?: RawPlusValue;
    is_test_data_shared?: RawPlusValue;
    last_negative_test_date?: RawPlusValue;
  };
  /** @default '********792' */
  maskedIdentity?: string;
  /** @default 'DE****' */
  maskedFirstname?: string;
  /** Carries the ministry's trailing space. @default 'DE**** ' */
  maskedLastname?: string;
  /** What this code is for (shown to operators). */
  note: string;
}

export const NO_LIMIT_EXPIRY = '2070-12-31T20:59:59.000Z';

/** The bundled codes by purpose, for tests and rehearsal scripts. */
export const SAMPLE = {
  RISKLESS: 'A1B2345678',
  RISKLESS_NEAR_EXPIRY: 'C3D4567890',
  RISKY: 'E5F6789012',
  NOT_FOUND: 'G7H8901234',
  EXPIRED: 'J9K0123456',
  RISKLESS_PAST_EXPIRY: 'L2M3456789',
  UNKNOWN_STATUS: 'N4P5678901',
  PLUS_VACCINATED: 'R6S7890123',
  PLUS_STRING_BOOLEANS: 'T8U9012345',
  PLUS_NULLS: 'V1W2345678',
  PLUS_NEGATIVE_TEST: 'X3Y4567890',
  RISKY_NO_Z: 'Z5A6789012',
  /** Not in the set: answers like a code that never existed. */
  ABSENT: 'B0C1000000',
} as const;

const DAY_MS = 86_400_000;

/** `2021-03-01T20:59:59Z`: the ministry's form without milliseconds. */
function isoSeconds(t: number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The bundled set; relative dates are computed from `now` (epoch ms), the clock at start. */
export function sampleCodes(now: number): SampleCode[] {
  return [
    { code: SAMPLE.RISKLESS, status: 'RISKLESS', expirationDate: NO_LIMIT_EXPIRY, note: 'RISKLESS, shared without limit (expiry 2070)' },
    {
      code: SAMPLE.RISKLESS_NEAR_EXPIRY,
      status: 'RISKLESS',
      expirationDate: isoSeconds(now + 30 * DAY_MS),
      maskedIdentity: '********214',
      maskedFirstname: 'AY**** FA****',
      maskedLastname: 'YI**** ',
      note: 'RISKLESS, expires 30 days after the simulator started (date without milliseconds)',
    },
    { code: SAMPLE.RISKY, status: 'RISKY', expirationDate: NO_LIMIT_EXPIRY, maskedIdentity: '********530', note: 'RISKY, shared without limit (expiry 2070)' },
    { code: SAMPLE.NOT_FOUND, errorKey: 'hescodenotfound', note: 'not found: HTTP 400, errorKey hescodenotfound (also revoked codes)' },
    { code: SAMPLE.EXPIRED, errorKey: 'hescodehasbeenexpired', note: 'expired: HTTP 400, errorKey hescodehasbeenexpired' },
    {
      code: SAMPLE.RISKLESS_PAST_EXPIRY,
      status: 'RISKLESS',
      expirationDate: '2021-03-01T20:59:59.000Z',
      note: 'RISKLESS, but its expiration_date (2021-03-01) is already past',
    },
    { code: SAMPLE.UNKNOWN_STATUS, status: 'UNDETERMINED', expirationDate: NO_LIMIT_EXPIRY, note: 'unknown status UNDETERMINED (never riskless)' },
    {
      code: SAMPLE.PLUS_VACCINATED,
      status: 'RISKLESS',
      expirationDate: NO_LIMIT_EXPIRY,
      plus: { is_vaccinated: true, is_immune: false, is_test_data_shared: true, last_negative_test_date: null },
      note: 'RISKLESS; plus: vaccinated true, immune false, test data shared true, no negative test',
    },
    {
      code: SAMPLE.PLUS_STRING_BOOLEANS,
      status: 'RISKLESS',
      expirationDate: NO_LIMIT_EXPIRY,
      plus: { is_vaccinated: 'true', is_immune: 'false', is_test_data_shared: 'false', last_negative_test_date: 'null' },
      note: 'RISKLESS; plus fields as strings: "true", "false", "false", "null"',
    },
    {
      code: SAMPLE.PLUS_NULLS,
      status: 'RISKLESS',
      expirationDate: isoSeconds(now + 365 * DAY_MS),
      plus: { is_vaccinated: null, is_immune: 'null', is_test_data_shared: null, last_negative_test_date: null },
      note: 'RISKLESS; plus fields null and "null" (no consent)',
    },
    {
      code: SAMPLE.PLUS_NEGATIVE_TEST,
      status: 'RISKLESS',
      expirationDate: NO_LIMIT_EXPIRY,
      plus: {
        is_vaccinated: false,
        is_immune: false,
        is_test_data_shared: true,
        last_negative_test_date: new Date(now - DAY_MS).toISOString(),
      },
      note: 'RISKLESS; plus: not vaccinated, negative PCR test 24 h before the simulator started',
    },
    {
      code: SAMPLE.RISKY_NO_Z,
      status: 'RISKY',
      expirationDate: '2070-12-31T20:59:59',
      maskedFirstname: 'MU****',
      maskedLastname: 'ÖZ**** ',
      note: 'RISKY; expiration_date without "Z" (read as UTC)',
    },
  ];
}

const KEYS = new Set(['code', 'status', 'expirationDate', 'errorKey', 'plus', 'maskedIdentity', 'maskedFirstname', 'maskedLastname', 'note']);
const PLUS_KEYS = new Set(['is_vaccinated', 'is_immune', 'is_test_data_shared', 'last_negative_test_date']);

/** Checks one sample code; throws a TypeError naming the field (`where`) and what was expected. */
export function validateSampleCode(value: unknown, where = 'code'): SampleCode {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${where} must be an object`);
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (!KEYS.has(k)) throw new TypeError(`${where}.${k} is not a sample code field (expected one of ${[...KEYS].join(', ')})`);
  }
  if (!isNormalizedHesCode(v['code'])) {
    throw new TypeError(`${where}.code must be 10 upper-case letters or digits, without dashes`);
  }
  for (const k of ['status', 'expirationDate', 'errorKey', 'maskedIdentity', 'maskedFirstname', 'maskedLastname', 'note']) {
    if (v[k] !== undefined && typeof v[k] !== 'string') throw new TypeError(`${where}.${k} must be a string`);
  }
  if (v['status'] === undefined && v['errorKey'] === undefined) {
    throw new TypeError(`${where} needs a status (for example "RISKLESS") or an errorKey (for example "hescodenotfound")`);
  }
  const plus = v['plus'];
  if (plus !== undefined) {
    if (plus === null || typeof plus !== 'object' || Array.isArray(plus)) throw new TypeError(`${where}.plus must be an object`);
    for (const [k, p] of Object.entries(plus)) {
      if (!PLUS_KEYS.has(k)) throw new TypeError(`${where}.plus.${k} is not a plus field (expected one of ${[...PLUS_KEYS].join(', ')})`);
      if (p !== null && typeof p !== 'boolean' && typeof p !== 'string') {
        throw new TypeError(`${where}.plus.${k} must be a boolean, a string or null`);
      }
    }
  }
  return { ...(v as unknown as SampleCode), note: typeof v['note'] === 'string' ? v['note'] : '' };
}

/** Reads a JSON file holding `SampleCode[]`. Throws HG_CONFIG_FILE or HG_CONFIG_INVALID. */
export function loadSampleCodes(path: string): SampleCode[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `simulator codes file ${path} could not be read as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(raw)) {
    throw new HesGateError('HG_CONFIG_INVALID', `simulator codes file ${path} must hold a JSON array of sample codes`);
  }
  const seen = new Set<string>();
  return raw.map((item, i) => {
    let code: SampleCode;
    try {
      code = validateSampleCode(item, `[${i}]`);
    } catch (err) {
      throw new HesGateError('HG_CONFIG_INVALID', `simulator codes file ${path}: ${(err as Error).message}`);
    }
    if (seen.has(code.code)) throw new HesGateError('HG_CONFIG_INVALID', `simulator codes file ${path}: [${i}].code appears twice`);
    seen.add(code.code);
    return code;
  });
}
