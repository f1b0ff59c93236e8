/**
 * The card store's failures as coded errors: a binding field that cannot be canonicalised
 * (4xx, nothing echoed) and a write SQLite refused (HG_STORE, naming the cause an operator can
 * act on: another process's lock, a full disk, a read-only file).
 */
import { HesGateError } from '../errors.js';
import type { BindingProblem } from './binding.js';

/** The coded error for a binding field that failed `checkBinding`; no value is echoed. */
export function bindingError(problem: BindingProblem): HesGateError {
  switch (problem) {
    case 'CARD_ID_INVALID':
      return new HesGateError('HG_CARD_ID_INVALID', 'The card id must be 4 to 20 bytes of hexadecimal (8 to 40 hex digits; `:`, `-` or spaces between them allowed).');
    case 'HES_CODE_INVALID':
      return new HesGateError('HG_HES_CODE_INVALID', 'The HES code must be 10 letters or digits (dashes and spaces allowed).');
    case 'PROFILE_INVALID':
      return new HesGateError('HG_BAD_REQUEST', 'profile must be a short lower-case word (a letter, then up to 31 letters, digits, `-` or `_`).');
  }
}

export function storeError(message: string, cause: unknown): HesGateError {
  return new HesGateError('HG_STORE', message, { cause });
}

/** SQLite's BUSY and LOCKED results (and their extended codes): another connection holds the lock. */
export function isLockError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * A failed write as HG_STORE, naming the cause an operator can act on: a lock held by another
 * process, a full disk, a read-only file. Coded errors (bad input) pass through.
 */
export function writeError(err: unknown, busyTimeoutMs: number): unknown {
  if (err instanceof HesGateError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  if (isLockError(err)) {
    return storeError(
      `The card store is locked by another writer (waited ${busyTimeoutMs} ms; is another import or process writing?): nothing was written, try again.`,
      err,
    );
  }
  return storeError(`The card store could not be written (${code}).`, err);
}
