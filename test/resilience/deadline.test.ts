/**
 * The gate's deadline while the ministry is slow or hangs. Timing-sensitive: this folder runs on
 * its own after the rest of the suite (see package.json), so other test files do not compete
 * for the two cores while decisions are timed.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from '../http/helpers.js';

/** Lateness allowed at the client beyond the server's own 5 ms: loopback HTTP both ways. */
const CLIENT_TOLERANCE_MS = 25;

describe('the deadline while the ministry hangs', () => {
  it('answers on time from the outage policy while the ministry hangs', async () => {
    const t = await startTestGate({
      ministry: { headersTimeoutMs: 1000 },
      gates: { defaults: { deadlineMs: 100, ministryUnavailable: 'deny' } },
    });
    try {
      const sim = t.gate.simulator!;
      await t.post({ gate: 'G1', hesCode: SAMPLE.RISKY }); // warm the path and the connection
      sim.setFaults({ hang: true });
      const arrived = once(sim, 'request');
      const r = await t.post({ gate: 'G1', hesCode: SAMPLE.RISKLESS });
      await arrived;
      expect(r.body).toMatchObject({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
      expect(r.body.elapsedMs).toBeLessThanOrEqual(105);
      expect(r.ms, 'measured by the client').toBeLessThanOrEqual(100 + CLIENT_TOLERANCE_MS);
      // It waited for the ministry until the deadline less the 15 ms margin kept for the rest of the work.
      expect(r.body.elapsedMs).toBeGreaterThanOrEqual(80);
    } finally {
      await t.gate.close();
    }
  });

  it('a hung call keeps running under its own timeout and serves the next tap', async () => {
    const t = await startTestGate({ gates: { defaults: { deadlineMs: 50, ministryUnavailable: 'deny' } } });
    try {
      const sim = t.gate.simulator!;
      sim.setFaults({ latencyMs: 200 }); // slower than the deadline, faster than the ministry timeout
      const r1 = await t.post({ gate: 'G1', hesCode: SAMPLE.RISKLESS });
      expect(r1.body).toMatchObject({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE' });
      expect(r1.body.elapsedMs).toBeLessThanOrEqual(50 + 5);
      expect(r1.ms, 'measured by the client').toBeLessThanOrEqual(50 + CLIENT_TOLERANCE_MS);
      await t.gate.status.drain();
      const r2 = await t.post({ gate: 'G1', hesCode: SAMPLE.RISKLESS });
      expect(r2.body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS', source: 'cache' });
      expect(sim.counts().byCode[SAMPLE.RISKLESS]).toBe(1);
    } finally {
      await t.gate.close();
    }
  });
});
