/**
 * What the client must make of each bundled sample code, for a simulator started at NOW.
 * Shared by the client tests; derived from the sample set's notes, written out by hand.
 */
import type { MinistryLookup, PlusFields } from '../../src/types.js';
import { SAMPLE } from '../../src/simulator/index.js';
import { HesGateError } from '../../src/errors.js';

export const NOW = Date.UTC(2025, 0, 15, 9, 30, 0);
export const clock = (): number => NOW;
const DAY = 86_400_000;
const NO_LIMIT = Date.UTC(2070, 11, 31, 20, 59, 59);
const NO_PLUS: PlusFields = { isVaccinated: null, isImmune: null, isTestDataShared: null, lastNegativeTestAt: null };

export interface Expected {
  code: string;
  /** Without plus fields; or the error code it must reject with. */
  lookup: MinistryLookup | { error: string };
  /** Plus fields on the plus endpoints (status codes only). */
  plus?: PlusFields;
}

export const EXPECTED: Expected[] = [
  { code: SAMPLE.RISKLESS, lookup: { kind: 'status', status: 'RISKLESS', expiresAt: NO_LIMIT }, plus: NO_PLUS },
  { code: SAMPLE.RISKLESS_NEAR_EXPIRY, lookup: { kind: 'status', status: 'RISKLESS', expiresAt: NOW + 30 * DAY }, plus: NO_PLUS },
  { code: SAMPLE.RISKY, lookup: { kind: 'status', status: 'RISKY', expiresAt: NO_LIMIT }, plus: NO_PLUS },
  { code: SAMPLE.NOT_FOUND, lookup: { kind: 'not-found' } },
  { code: SAMPLE.EXPIRED, lookup: { kind: 'expired' } },
  { code: SAMPLE.RISKLESS_PAST_EXPIRY, lookup: { kind: 'status', status: 'RISKLESS', expiresAt: Date.UTC(2021, 2, 1, 20, 59, 59) }, plus: NO_PLUS },
  { code: SAMPLE.UNKNOWN_STATUS, lookup: { error: 'HG_MINISTRY_UNKNOWN_STATUS' } },
  {
    code: SAMPLE.PLUS_VACCINATED,
    lookup: { kind: 'status', status: 'RISKLESS', expiresAt: NO_LIMIT },
    plus: { isVaccinated: true, isImmune: false, isTestDataShared: true, lastNegativeTestAt: null },
  },
  {
    code: SAMPLE.PLUS_STRING_BOOLEANS,
    lookup: { kind: 'status', status: 'RISKLESS', expiresAt: NO_LIMIT },
    plus: { isVaccinated: true, isImmune: false, isTestDataShared: false, lastNegativeTestAt: null },
  },
  { code: SAMPLE.PLUS_NULLS, lookup: { kind: 'status', status: 'RISKLESS', expiresAt: NOW + 365 * DAY }, plus: NO_PLUS },
  {
    code: SAMPLE.PLUS_NEGATIVE_TEST,
    lookup: { kind: 'status', status: 'RISKLESS', expiresAt: NO_LIMIT },
    plus: { isVaccinated: false, isImmune: false, isTestDataShared: true, lastNegativeTestAt: NOW - DAY },
  },
  { code: SAMPLE.RISKY_NO_Z, lookup: { kind: 'status', status: 'RISKY', expiresAt: NO_LIMIT }, plus: NO_PLUS },
  { code: SAMPLE.ABSENT, lookup: { kind: 'not-found' } },
];

/** The lookup a plus endpoint must give for an expectation. */
export function withPlus(e: Expected): MinistryLookup | { error: string } {
  return 'kind' in e.lookup && e.lookup.kind === 'status' ? { ...e.lookup, plus: e.plus } : e.lookup;
}

/** Settles a promise into its value or `{ error: code }`. */
export async function settle<T>(p: Promise<T>): Promise<T | { error: string }> {
  try {
    return await p;
  } catch (err) {
    return { error: (err as { code?: string }).code ?? 'NO_CODE' };
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<HesGateError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HesGateError) return err;
    throw new Error(`expected a HesGateError, got ${String(err)}`);
  }
  throw new Error('expected a rejection, got a value');
}
