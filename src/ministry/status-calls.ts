/**
 * Which ministry calls a station's status lookups make. Gates that require vaccination,
 * immunity or a test need the plus fields, so the plus calls; every other station asks the plain
 * calls and never receives those fields (keep only what a decision needs).
 */
import type { MinistryLookup } from '../types.js';
import type { BulkResult, MinistryClient } from './types.js';

export interface StatusCalls {
  /** One code, on a tap's cache miss (and the start-up credentials probe). */
  single(code: string): Promise<MinistryLookup>;
  /** Many codes, for the refresher. */
  checkHesCodes(codes: readonly string[]): Promise<BulkResult>;
}

export function statusCalls(ministry: Pick<MinistryClient, 'checkHesCode' | 'checkHesCodePlus' | 'checkHesCodes' | 'checkHesCodesPlus'>, plus: boolean): StatusCalls {
  return plus
    ? { single: (code) => ministry.checkHesCodePlus(code), checkHesCodes: (codes) => ministry.checkHesCodesPlus(codes) }
    : { single: (code) => ministry.checkHesCode(code), checkHesCodes: (codes) => ministry.checkHesCodes(codes) };
}
