/** The ministry's readiness rule, over the states it reads (health from real call outcomes, the circuit). */
import { describe, expect, it } from 'vitest';
import { ministryReadiness } from '../../src/ministry/readiness.js';
import { MinistryHealth } from '../../src/ops/ministry-health.js';
import type { CircuitState } from '../../src/ministry/guard.js';

function rule(outcomes: string[], circuit: CircuitState, fallbackArmed: boolean) {
  const health = new MinistryHealth();
  for (const outcome of outcomes) health.record({ endpoint: 'check-hes-code', outcome, durationMs: 1, codes: 1 }, 0);
  return ministryReadiness({ health, guard: { snapshot: () => ({ state: circuit }) }, fallbackArmed }).check();
}

describe('ministry readiness', () => {
  it('up and closed is ready', () => {
    expect(rule(['ok'], 'closed', false)).toEqual({ ok: true, detail: 'up, circuit closed' });
  });

  it('refused credentials are not ready whatever the outage policy, and say what to check', () => {
    for (const armed of [true, false]) {
      const r = rule(['HG_MINISTRY_AUTH'], 'closed', armed);
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/refused the credentials.*HES_GATE_MINISTRY_USER/);
    }
  });

  it('down or an open circuit: ready only while every gate still decides without the ministry', () => {
    const down = ['HG_MINISTRY_TIMEOUT', 'HG_MINISTRY_TIMEOUT', 'HG_MINISTRY_TIMEOUT'];
    expect(rule(down, 'closed', true)).toMatchObject({ ok: true, detail: expect.stringMatching(/outage policy armed/) });
    expect(rule(down, 'closed', false)).toMatchObject({ ok: false, detail: expect.stringMatching(/a gate policy denies on outage/) });
    expect(rule(['HG_MINISTRY_SERVER_ERROR'], 'open', false)).toMatchObject({ ok: false, detail: expect.stringMatching(/circuit open \(HG_MINISTRY_SERVER_ERROR\)/) });
    expect(rule(['HG_MINISTRY_SERVER_ERROR'], 'half-open', true).ok).toBe(true);
  });
});
