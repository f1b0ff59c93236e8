/**
 * Issue 13: a ministry answer whose health status is neither RISKLESS nor RISKY (the
 * simulator's UNDETERMINED sample) is an answer, not a ministry failure. It is decided as
 * documented (never passes as RISKLESS), cached briefly like "not found", counted in its own
 * metric, and leaves the ministry's health alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { MinistryHealth } from '../../src/ops/ministry-health.js';
import { loadConfig } from '../../src/config/load.js';
import { startHesGate } from '../../src/hes-gate.js';
import { createLogger } from '../../src/ops/logger.js';
import { LogCapture, startTestGate } from '../http/helpers.js';

describe('a health status neither RISKLESS nor RISKY (issue 13)', () => {
  it('over real HTTP: the same verdict as before, one ministry call for three taps, counted, ministry still up', async () => {
    const t = await startTestGate({ gates: { defaults: { ministryUnavailable: 'last-known', lastKnownFallback: 'deny' } } });
    try {
      const sim = t.gate.simulator!;
      sim.resetCounts();
      const first = await t.post({ gate: 'G1', hesCode: SAMPLE.UNKNOWN_STATUS });
      expect(first.body).toMatchObject({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
      // The first tap's ministry call has finished (it may have outlived the tap's deadline).
      await t.gate.status.drain();
      for (let i = 0; i < 3; i++) {
        const again = await t.post({ gate: 'G1', hesCode: SAMPLE.UNKNOWN_STATUS });
        expect(again.body).toMatchObject({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
      }
      expect(sim.counts().byPath['check-hes-code']).toBe(1);
      expect(t.gate.ministryHealth.state).toBe('up');
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/^hes_gate_ministry_unrecognised_status_total 1$/m);
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    } finally {
      await t.gate.close();
    }
  });

  it('under the pass outage policy it passes only as MINISTRY_UNAVAILABLE, never as RISKLESS', async () => {
    const t = await startTestGate({ gates: { defaults: { ministryUnavailable: 'pass' } } });
    try {
      await t.post({ gate: 'G1', hesCode: SAMPLE.UNKNOWN_STATUS });
      await t.gate.status.drain();
      expect((await t.post({ gate: 'G1', hesCode: SAMPLE.UNKNOWN_STATUS })).body).toMatchObject({ verdict: 'pass', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
    } finally {
      await t.gate.close();
    }
  });

  it('a holder last known RISKY stays denied after the ministry answers UNDETERMINED and the station restarts under the pass policy', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hes-gate-unrecognised-'));
    // Statuses go stale at once, so after the restart only the outage policy and the last-known status decide.
    const overrides = { refresher: { enabled: false }, cache: { maxEntries: 1000, riskyTtlMs: 1, risklessTtlMs: 1 }, gates: { defaults: { ministryUnavailable: 'pass' } } };
    const config = () => loadConfig({ noFile: true, env: { HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir }, overrides });
    // An injected clock, so the UNDETERMINED answer is seconds newer than the RISKY one without sleeping.
    let now = Date.now();
    const clock = () => now;
    const logger = createLogger('warn', new LogCapture());
    const first = await startHesGate(config(), { clock, logger, listen: false });
    try {
      await first.cards.putBindings([{ cardId: '04A1B2C3', hesCode: SAMPLE.RISKY }]);
      expect((await first.refresher.runOnce()).outcome).toBe('ok');
      now += 5000;
      first.simulator!.setCode(SAMPLE.RISKY, { status: 'UNDETERMINED', expirationDate: '2070-12-31T20:59:59Z', note: 'undetermined now' });
      first.refresher.noteTap(SAMPLE.RISKY); // asked again at once (a new rotation waits minRotationMs)
      expect((await first.refresher.runOnce()).outcome).toBe('ok');
      expect(first.status.counters.unrecognised).toBe(1);
      expect(first.status.lastKnown(SAMPLE.RISKY, now)).toMatchObject({ status: 'RISKY' });
    } finally {
      await first.close();
    }
    now += 5000;
    const second = await startHesGate(config(), { clock, logger, listen: false });
    try {
      second.simulator!.setFaults({ status: 503 });
      const r = await second.app.inject({ method: 'POST', url: '/v1/decisions', payload: { gate: 'G1', card: '04A1B2C3' } });
      expect(r.json()).toMatchObject({ verdict: 'deny', reason: 'RISKY', source: 'stale' });
    } finally {
      await second.close();
    }
  });

  it('ministry health: three unrecognised statuses in a row leave it up; transport, authentication and protocol failures count', () => {
    const h = new MinistryHealth();
    const call = (outcome: string) => h.record({ endpoint: 'check-hes-code', outcome, durationMs: 5, codes: 1 }, 1000);
    for (let i = 0; i < 3; i++) call('HG_MINISTRY_UNKNOWN_STATUS');
    expect(h.state).toBe('up');
    expect(h.consecutiveFailures).toBe(0);
    for (const failure of ['HG_MINISTRY_TIMEOUT', 'HG_MINISTRY_BAD_RESPONSE', 'HG_MINISTRY_CONNECTION']) call(failure);
    expect(h.state).toBe('down');
    call('HG_MINISTRY_UNKNOWN_STATUS');
    expect(h.state).toBe('up');
    call('HG_MINISTRY_AUTH');
    expect(h.state).toBe('credentials-refused');
  });
});
