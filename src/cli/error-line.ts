import type { HesGateError } from '../errors.js';

/**
 * A coded error as every hes-gate command prints it on stderr: `hes-gate: <code>: <message>`.
 * One form for all of them, so `config check` names a problem with the very line `serve` would
 * refuse with, and scripts and runbooks match one pattern.
 */
export function errorLine(err: Pick<HesGateError, 'code' | 'message'>): string {
  return `hes-gate: ${err.code}: ${err.message}\n`;
}
