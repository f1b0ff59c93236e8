/**
 * A decision that waits for the ministry waits at most what is left of the gate's deadline: less
 * the margin kept for the rest of the work, less the time since the credential arrived, and less
 * how late the event loop runs (issue 20: under saturation the deadline timer fired that late, and
 * answers carried an elapsedMs past the deadline). Clocks and the loop's lateness are injected.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DecisionService } from '../../src/decisions/decision-service.js';
import { gateLookup } from '../../src/policy/gate-lookup.js';
import { within } from '../../src/deadline.js';
import type { StatusLookup } from '../../src/status/types.js';
import type { StatusOutcome } from '../../src/types.js';

const DEADLINE_MS = 150;
const MARGIN_MS = 15;

function service(lateness: (() => number) | undefined, budgets: number[], now: () => number): DecisionService {
  const { config } = loadConfig({ noFile: true, env: {}, overrides: { gates: { defaults: { deadlineMs: DEADLINE_MS, ministryUnavailable: 'deny' } } } });
  // A ministry that has not answered yet: the lookup waits as the real one does, bounded by its budget.
  const status: StatusLookup = {
    lookup(_code, budgetMs) {
      budgets.push(budgetMs);
      return within(new Promise<never>(() => {}), budgetMs, (x) => x, (): StatusOutcome => ({ kind: 'unavailable' }));
    },
  };
  return new DecisionService({ status, gates: gateLookup(config.gates), clock: () => 1_700_000_000_000, monotonic: now, marginMs: MARGIN_MS, ...(lateness === undefined ? {} : { lateness }) });
}

describe('the ministry wait of a decision', () => {
  it('is the deadline less the margin and the time since arrival', async () => {
    const budgets: number[] = [];
    const d = service(undefined, budgets, () => 1_010);
    await d.decideNow({ kind: 'hes', value: 'A1B2345678', gate: 'G1', at: 0 }, 1_000);
    expect(budgets).toEqual([DEADLINE_MS - MARGIN_MS - 10]);
  });

  it('is shorter by how late the event loop runs: its deadline timer fires that late', async () => {
    const budgets: number[] = [];
    let lag = 40;
    const d = service(() => lag, budgets, () => 1_010);
    await d.decideNow({ kind: 'hes', value: 'A1B2345678', gate: 'G1', at: 0 }, 1_000);
    lag = 0;
    await d.decideNow({ kind: 'hes', value: 'A1B2345678', gate: 'G1', at: 0 }, 1_000);
    expect(budgets).toEqual([DEADLINE_MS - MARGIN_MS - 10 - 40, DEADLINE_MS - MARGIN_MS - 10]);
  });

  it('is never cut below half of what is left: a ministry that answers at once is still waited for', async () => {
    const budgets: number[] = [];
    const d = service(() => 200, budgets, () => 1_010);
    await d.decideNow({ kind: 'hes', value: 'A1B2345678', gate: 'G1', at: 0 }, 1_000);
    expect(budgets).toEqual([(DEADLINE_MS - MARGIN_MS - 10) / 2]);
  });

  it('does not wait at all once the deadline less the margin has passed: the answer goes at once', () => {
    const budgets: number[] = [];
    const d = service(() => 5, budgets, () => 1_000 + DEADLINE_MS);
    const result = d.decideNow({ kind: 'hes', value: 'A1B2345678', gate: 'G1', at: 0 }, 1_000);
    // Not a promise: no timer to wait on, decided in this tick as "ministry unavailable".
    expect(result).toMatchObject({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE' });
    expect(budgets[0]).toBeLessThanOrEqual(0);
  });
});
