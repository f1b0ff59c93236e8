/**
 * The one rule for every bearer token hes-gate checks (`HES_GATE_API_TOKEN`,
 * `HES_GATE_ADMIN_TOKEN`, `HES_GATE_SIMULATOR_TOKEN`): a token someone can guess opens what it
 * guards to anyone who can reach the port, so a weak one is refused at start (HG_TOKEN_WEAK),
 * loopback or not — the same token usually moves on to a station that listens on the network.
 *
 * Length is what makes a random token strong; the variety rule only catches what no generator
 * makes (`aaaaaaaaaaaaaaaa`, `abababababababab`). Printable ASCII only: a token travels in an
 * `Authorization` header, and a space or a control character there is a copy-and-paste accident.
 * `openssl rand -hex 16` (32 characters) passes.
 */
import { HesGateError } from '../errors.js';

/** Fewest characters a token may have. */
export const TOKEN_MIN_LENGTH = 16;
/** Fewest different characters in it (a random 16-character hex token has fewer than 6 about once in 40,000). */
export const TOKEN_MIN_DISTINCT = 6;

/** What is wrong with `token`, in words that never repeat it; null when it passes. */
export function tokenWeakness(token: string): string | null {
  const n = token.length;
  if (n < TOKEN_MIN_LENGTH) return `it has ${n} character${n === 1 ? '' : 's'}, at least ${TOKEN_MIN_LENGTH} are needed`;
  if (!/^[\x21-\x7e]+$/.test(token)) return 'it has a space, a control or a non-ASCII character (printable ASCII only)';
  if (new Set(token).size < TOKEN_MIN_DISTINCT) return `it repeats too few characters (at least ${TOKEN_MIN_DISTINCT} different ones are needed)`;
  return null;
}

/** HG_TOKEN_WEAK naming the variable and the setting when `token` fails the rule; null when it passes. */
export function weakTokenError(variable: string, key: string, token: string): HesGateError | null {
  const why = tokenWeakness(token);
  if (why === null) return null;
  return new HesGateError('HG_TOKEN_WEAK', `${variable} is too weak: ${why}; make one with: openssl rand -hex 16`, {
    details: { key, expected: `at least ${TOKEN_MIN_LENGTH} printable ASCII characters, ${TOKEN_MIN_DISTINCT} of them different` },
  });
}
