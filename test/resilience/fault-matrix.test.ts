/**
 * The promise of hes-gate under ministry faults: every decision on time, a RISKY holder never
 * passes, an unknown status never passes as RISKLESS, a failing ministry is not hammered, and
 * fresh ministry answers return once the fault clears.
 *
 * Each mode runs a whole gate against its embedded simulator over loopback HTTP: a warm-up
 * without faults, then a steady load of decisions while the simulator misbehaves, then recovery.
 * Nothing sleeps: rounds of concurrent decisions follow one another, and recovery waits for the
 * circuit's own half-open event.
 */
import { once } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Faults } from '../../src/simulator/index.js';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from '../http/helpers.js';

const DEADLINE_MS = 100;
const TOLERANCE_MS = 5;
/**
 * Lateness allowed at the client: loopback HTTP both ways, the twelve answers of a round read one
 * after another, and the event loop this test shares between client, gate and simulator (whose
 * failing calls are torn down while a round's answers are on their way). Still far below the
 * ministry's own delays here (250–300 ms), so a reply held back for the ministry would fail.
 */
const CLIENT_TOLERANCE_MS = 60;
const ROUNDS = 15;
const PER_ROUND = 12;

interface Mode {
  name: string;
  faults: Partial<Faults>;
  /** Most calls the simulator may see during the fault. */
  maxCalls: number;
  /** Whether the circuit is expected to open (availability failures). */
  opens: boolean;
}

const MODES: Mode[] = [
  // Slow is not failing: calls succeed late, so nothing opens the circuit. What bounds them is
  // single flight (the three known codes are asked at most once per call in flight) and the
  // pool; how many reach the simulator depends on how long the rounds take on a busy machine
  // (56 of 180 taps in a typical run), so the bound here is one call per distinct code asked.
  { name: 'slow beyond the deadline', faults: { latencyMs: 250 }, maxCalls: ROUNDS * (PER_ROUND - 3) + 3 * ROUNDS, opens: false },
  { name: 'hang', faults: { hang: true }, maxCalls: 24, opens: true },
  { name: 'connection reset', faults: { reset: true }, maxCalls: 24, opens: true },
  { name: '503', faults: { status: 503 }, maxCalls: 24, opens: true },
  { name: '429 with Retry-After', faults: { rateLimit: { retryAfterSeconds: 1 } }, maxCalls: 4, opens: false },
  { name: 'garbage body', faults: { body: 'garbage' }, maxCalls: 24, opens: true },
  { name: 'truncated body', faults: { body: 'truncated' }, maxCalls: 24, opens: true },
  { name: 'wrong credentials', faults: { rejectAuth: true }, maxCalls: 24, opens: true },
];

// A fresh test worker compiles the whole decision path on its first busy round: warm it once,
// unmeasured, so the timed rounds below measure the gate and not V8's first compilation.
beforeAll(async () => {
  const t = await startTestGate({ ministry: { headersTimeoutMs: 300 }, cache: { risklessTtlMs: 0 }, gates: { defaults: { deadlineMs: DEADLINE_MS } } });
  try {
    for (const faults of [{}, { latencyMs: 250 }]) {
      t.gate.simulator!.setFaults(faults);
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: PER_ROUND }, (_, i) => t.post({ gate: 'G1', hesCode: i === 0 ? SAMPLE.RISKLESS : `W${round}${String(i).padStart(8, '0')}` })));
      }
    }
    t.gate.simulator!.resetFaults();
    await t.gate.status.drain();
  } finally {
    await t.gate.close();
  }
});

describe.each(MODES)('ministry fault: $name', (mode) => {
  it('keeps every promise of the decision path', async () => {
    const t = await startTestGate({
      ministry: { connectTimeoutMs: 200, headersTimeoutMs: 300, bodyTimeoutMs: 300 },
      // Fresh statuses expire at once, so every tap asks the ministry and meets the fault.
      cache: { risklessTtlMs: 0, riskyTtlMs: 0, notFoundTtlMs: 0 },
      resilience: { consecutiveFailures: 5, baseEjectionMs: 300, maxEjectionMs: 300 },
      gates: { defaults: { deadlineMs: DEADLINE_MS, ministryUnavailable: 'last-known', lastKnownFallback: 'deny' } },
    });
    const sim = t.gate.simulator!;
    try {
      // Warm-up without faults: the gate learns one RISKLESS and one RISKY holder.
      expect((await t.post({ gate: 'G1', hesCode: SAMPLE.RISKLESS })).body).toMatchObject({ verdict: 'pass', source: 'ministry' });
      expect((await t.post({ gate: 'G1', hesCode: SAMPLE.RISKY })).body).toMatchObject({ verdict: 'deny', reason: 'RISKY' });

      sim.setFaults(mode.faults);
      sim.resetCounts();
      const decisions: Array<{ code: string; body: any; ms: number }> = [];
      let fresh = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const codes: string[] = [SAMPLE.RISKLESS, SAMPLE.RISKY, SAMPLE.UNKNOWN_STATUS];
        for (let i = codes.length; i < PER_ROUND; i++) codes.push(`F${String(round).padStart(2, '0')}${String(i).padStart(7, '0')}`);
        const answers = await Promise.all(codes.map(async (code) => ({ code, ...(await t.post({ gate: 'G1', hesCode: code })) })));
        decisions.push(...answers);
      }
      const callsDuringFault = sim.counts().total;

      for (const d of decisions) {
        expect(d.body.verdict, `a decision for ${d.code.slice(0, 4)} in mode ${mode.name}`).toMatch(/^(pass|deny)$/);
        expect(d.body.elapsedMs).toBeLessThanOrEqual(DEADLINE_MS + TOLERANCE_MS);
        expect(d.ms, 'measured by the client').toBeLessThanOrEqual(DEADLINE_MS + CLIENT_TOLERANCE_MS);
        if (d.code === SAMPLE.RISKY) expect(d.body.verdict).toBe('deny');
        if (d.code !== SAMPLE.RISKLESS && d.body.verdict === 'pass') fresh++;
        if (d.code === SAMPLE.RISKLESS && d.body.verdict === 'pass') expect(['ministry', 'stale']).toContain(d.body.source);
      }
      // Nothing unknown passed as RISKLESS: only the holder known RISKLESS ever passed.
      expect(fresh).toBe(0);
      expect(callsDuringFault).toBeLessThanOrEqual(mode.maxCalls);

      const circuit = t.gate.ministry.snapshot();
      if (mode.opens) expect(circuit.state === 'open' || circuit.ejections > 0).toBe(true);

      if (mode.faults.rejectAuth) {
        const ready = await fetch(`${t.url}/readyz`);
        const body = (await ready.json()) as any;
        expect(ready.status).toBe(503);
        expect(body.checks.ministry.detail).toMatch(/refused the credentials/);
        expect(t.logs.raw.join('\n')).toMatch(/refused the credentials/);
      }

      // Recovery: clear the fault, let the circuit probe, and see fresh ministry answers again.
      sim.resetFaults();
      await t.gate.status.drain();
      if (t.gate.ministry.snapshot().state === 'open') {
        await once(t.gate.ministry, 'state');
      }
      const pausedFor = t.gate.ministry.snapshot().pausedUntil - Date.now();
      if (pausedFor > 0) await new Promise((resolve) => setTimeout(resolve, pausedFor)); // Retry-After is the ministry's own instruction
      const after = await t.post({ gate: 'G1', hesCode: SAMPLE.RISKLESS });
      expect(after.body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS', source: 'ministry' });
      const risky = await t.post({ gate: 'G1', hesCode: SAMPLE.RISKY });
      expect(risky.body).toMatchObject({ verdict: 'deny', reason: 'RISKY', source: 'ministry' });
      expect(t.gate.ministry.snapshot().state).toBe('closed');
    } finally {
      await t.gate.close();
    }
  });
});
