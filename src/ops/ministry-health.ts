import type { MinistryCallEvent } from '../ministry/types.js';

export type MinistryState = 'unknown' | 'up' | 'degraded' | 'down' | 'credentials-refused';

/**
 * Outcomes that say the ministry answered, though not with a status: a health status neither
 * RISKLESS nor RISKY is still an answer (the status stage holds and counts it). Anything else
 * that is not `ok`, `not-found` or `expired` is a transport failure (timeout, connection, 5xx,
 * 429), an authentication failure (401/403) or a protocol failure (a body that is not the
 * expected shape, an unexpected HTTP status, an unknown errorKey).
 */
const ANSWERS = new Set<string>(['ok', 'not-found', 'expired', 'HG_MINISTRY_UNKNOWN_STATUS']);

/**
 * What operators should believe about the ministry, from the outcomes of real calls: it counts
 * transport, authentication and protocol failures only. Wrong credentials are their own state:
 * an operator must read "your password is wrong", not "ministry down".
 */
export class MinistryHealth {
  state: MinistryState = 'unknown';
  lastError: string | null = null;
  lastSuccessAt: number | null = null;
  consecutiveFailures = 0;

  constructor(private readonly downAfter = 3) {}

  record(e: MinistryCallEvent, at: number): void {
    if (ANSWERS.has(e.outcome)) {
      this.state = 'up';
      this.consecutiveFailures = 0;
      this.lastSuccessAt = at;
      return;
    }
    this.lastError = e.outcome;
    this.consecutiveFailures++;
    if (e.outcome === 'HG_MINISTRY_AUTH') this.state = 'credentials-refused';
    else this.state = this.consecutiveFailures >= this.downAfter ? 'down' : 'degraded';
  }
}
