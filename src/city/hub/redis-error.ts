/**
 * A failed Redis command as the hub reports it: HG_CITY_UNAVAILABLE, naming what was being done
 * and the kind of failure (a socket error code or Redis's error word), never the command's
 * arguments — they may be sealed values or HMACs, and the message reaches operators.
 */
import { HesGateError } from '../../errors.js';

/** `ECONNREFUSED`, `NOSCRIPT`, `Connection is closed`…: the kind of failure, without any value. */
export function failureKind(err: unknown): string {
  if (!(err instanceof Error)) return 'error';
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
  if (/^Connection is closed/.test(err.message)) return 'connection closed';
  if (/enableOfflineQueue|Stream isn't writeable/.test(err.message)) return 'not connected';
  if (/Command timed out/.test(err.message)) return 'timed out';
  const word = /^([A-Z]{3,})\b/.exec(err.message);
  return word === null ? 'error' : word[1]!;
}

export function cityUnavailable(what: string, err: unknown): HesGateError {
  if (err instanceof HesGateError) return err;
  return new HesGateError('HG_CITY_UNAVAILABLE', `the city's Redis did not take ${what} (${failureKind(err)}); retry (a write repeated is counted unchanged)`, { cause: err });
}
