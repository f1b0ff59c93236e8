import type { MinistryCallEvent } from '../ministry/types.js';

export type MinistryState = 'unknown' | 'up' | 'degraded' | 'down' | 'credentials-refused';

/**
 * What operators should believe about the ministry, from the outcomes of real calls.
 * Wrong credentials are their own state: an operator must read "your password is wrong",
 * not "ministry down".
 */
export class MinistryHealth {
  state: MinistryState = 'unknown';
  lastError: string | null = null;
  lastSuccessAt: number | null = null;
  consecutiveFailures = 0;

  constructor(private readonly downAfter = 3) {}

  record(e: MinistryCallEvent, at: number): void {
    if (e.outcome === 'ok' || e.outcome === 'not-found' || e.outcome === 'expired') {
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
