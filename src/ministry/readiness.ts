/**
 * The ministry's readiness rule. Wrong credentials make a station not ready whatever its outage
 * policy (every call would be refused; an operator must fix them). A ministry that is down, or
 * a circuit that is not closed, leaves the station ready only when every gate's outage policy
 * still decides; a gate whose policy denies on outage makes it not ready.
 */
import type { ReadinessCheck } from '../types.js';
import type { CircuitState } from './guard.js';

export interface MinistryReadinessSources {
  /** What the calls so far say (see ops/ministry-health.ts). */
  health: { readonly state: string; readonly lastError: string | null };
  guard: { snapshot(): { state: CircuitState } };
  /** Whether every gate decides without the ministry (policy/gate-lookup.ts outageFallbackArmed). */
  fallbackArmed: boolean;
}

export function ministryReadiness(s: MinistryReadinessSources): ReadinessCheck {
  return {
    name: 'ministry',
    check: () => {
      const state = s.health.state;
      const circuit = s.guard.snapshot().state;
      if (state === 'credentials-refused') {
        return { ok: false, detail: 'the ministry refused the credentials: check HES_GATE_MINISTRY_USER and the password for this environment' };
      }
      if (state === 'down' || circuit !== 'closed') {
        const why = `ministry ${state}, circuit ${circuit} (${s.health.lastError})`;
        return s.fallbackArmed
          ? { ok: true, detail: `${why}; outage policy armed` }
          : { ok: false, detail: `${why} and a gate policy denies on outage` };
      }
      return { ok: true, detail: `${state}, circuit ${circuit}` };
    },
  };
}
