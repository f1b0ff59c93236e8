/**
 * The start-up credentials probe: one single check, sent as the service starts (it never
 * delays listening), so a station whose credentials are refused says so at once — not ready,
 * with one log line — instead of after its first taps.
 *
 * It asks about a made-up code that belongs to nobody: "not found" (or any other answer from
 * the service) proves the user name and password were accepted; 401/403 proves they were not.
 */
import { isHesGateError } from '../errors.js';
import type { MinistryLookup } from '../types.js';
import type { MinistryTarget } from './target.js';

/** Well-formed, and no person's code: the letters spell the product, not an identity. */
export const PROBE_CODE = 'HESGATE000';

/** `unknown`: no answer that says either way (down, timed out, rate limited, a body that is not the service's). */
export type ProbeOutcome = 'accepted' | 'refused' | 'unknown';

/** Never rejects: an outcome, whatever the ministry does. The call's own event feeds health and metrics. */
export async function probeCredentials(single: (code: string) => Promise<MinistryLookup>): Promise<ProbeOutcome> {
  try {
    await single(PROBE_CODE);
    return 'accepted';
  } catch (err) {
    if (!isHesGateError(err)) return 'unknown';
    if (err.code === 'HG_MINISTRY_AUTH') return 'refused';
    // The service itself answered (an errorKey or status it does not document): it accepted the credentials.
    return err.code === 'HG_MINISTRY_UNKNOWN_ERROR' || err.code === 'HG_MINISTRY_UNKNOWN_STATUS' ? 'accepted' : 'unknown';
  }
}

/** The probe for a target: a configured ministry only, since the embedded simulator's credentials are its own. */
export function probeTarget(target: Pick<MinistryTarget, 'simulator'>, single: (code: string) => Promise<MinistryLookup>): Promise<ProbeOutcome | 'skipped'> {
  return target.simulator !== null ? Promise.resolve('skipped') : probeCredentials(single);
}
