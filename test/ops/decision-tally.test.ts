/**
 * The decision tallies export exactly what prom-client's own labelled Counter and Histogram
 * would, fed with the same decisions: dashboards, recording rules and alerts see no change.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import type { Reason, Source, Verdict } from '../../src/types.js';

const BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.125, 0.15, 0.155, 0.175, 0.2, 0.3, 0.5, 1];

const status = { counters: { hits: 0, misses: 0, stale: 0, unknown: 0, coalesced: 0, unrecognised: 0 }, size: 0, inflightCount: 0, oldestAgeMs: () => 0 };

function pick(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name}_`) || l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `));
}

describe('decision tallies', () => {
  it('export the same counter and histogram text as prom-client children fed the same decisions', async () => {
    const metrics = createMetrics({ status, ministryHealth: { state: 'up', lastError: null } as never, clock: () => 0, gates: ['N1', 'N2'] });
    const reference = new Registry();
    const counter = new Counter({ name: 'hes_gate_decisions_total', help: 'Decisions by gate, verdict, reason and source (gate: a configured gate id, or other).', labelNames: ['gate', 'verdict', 'reason', 'source'] as const, registers: [reference] });
    const histogram = new Histogram({ name: 'hes_gate_decision_duration_seconds', help: 'Time from credential arrival to decision, by gate (a configured gate id, or other).', labelNames: ['gate'] as const, buckets: BUCKETS, registers: [reference] });

    const verdicts: Verdict[] = ['pass', 'deny'];
    const reasons: Reason[] = ['RISKLESS', 'RISKY', 'MINISTRY_UNAVAILABLE'];
    const sources: Source[] = ['cache', 'ministry', 'none'];
    // Durations on, between and beyond the bounds, in an order that is not sorted.
    const durations = [0, 0.0005, 0.0004, 0.15, 0.1500001, 2, 0.155, 1, 0.00101, 0.3, 0.02];
    let i = 0;
    for (const gate of ['N1', 'N2', 'X9', 'ANY']) {
      for (let k = 0; k < 37; k++, i++) {
        const e = { gate, verdict: verdicts[i % 2]!, reason: reasons[i % 3]!, source: sources[(i >> 1) % 3]!, elapsedMs: durations[i % durations.length]! * 1000 };
        metrics.decision(e);
        const label = gate === 'N1' || gate === 'N2' ? gate : 'other';
        counter.inc({ gate: label, verdict: e.verdict, reason: e.reason, source: e.source });
        histogram.observe({ gate: label }, e.elapsedMs / 1000);
      }
    }
    const ours = await metrics.registry.metrics();
    const theirs = await reference.metrics();
    for (const name of ['hes_gate_decisions_total', 'hes_gate_decision_duration_seconds']) {
      const a = pick(ours, name);
      const b = pick(theirs, name);
      expect(a.length).toBeGreaterThan(10);
      expect(a.sort()).toEqual(b.sort());
    }
    expect(ours).toContain('hes_gate_decision_duration_seconds_bucket{le="0.15",gate="N1"}');
    expect((await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'hes_gate_decision_duration_seconds')?.values.length).toBe(3 * (BUCKETS.length + 3));
  });

  it('export no series before the first decision', async () => {
    const metrics = createMetrics({ status, ministryHealth: { state: 'up', lastError: null } as never, clock: () => 0, gates: ['N1'] });
    const text = await metrics.registry.metrics();
    expect(text).not.toMatch(/^hes_gate_decisions_total\{/m);
    expect(text).not.toMatch(/^hes_gate_decision_duration_seconds_bucket\{/m);
  });
});
