/**
 * Promise: /readyz says "not ready" while the ministry is down if any gate's outage policy
 * denies — that gate cannot decide anything but deny, so the station is not able to decide.
 * When every gate has a fallback (pass, last-known), the same outage leaves it ready.
 */
import { describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from '../http/helpers.js';
import { logLine } from './helpers.js';

/** Start a gate with these listed gates, take the ministry down, and read /readyz. */
async function readinessDuringOutage(list: unknown[]): Promise<{ status: number; body: any }> {
  const t = await startTestGate({
    refresher: { enabled: false },
    // One failed call opens the circuit: the outage is reached in one tap.
    resilience: { consecutiveFailures: 1, maxRetries: 0 },
    gates: { defaults: { ministryUnavailable: 'pass' }, list },
  });
  try {
    const before = await fetch(`${t.url}/readyz`);
    expect(before.status).toBe(200);
    t.gate.simulator!.setFaults({ status: 503 });
    await t.post({ gate: 'N1', hesCode: SAMPLE.RISKLESS });
    await logLine(t.logs, (l) => l.msg === 'ministry circuit open');
    const res = await fetch(`${t.url}/readyz`);
    return { status: res.status, body: await res.json() };
  } finally {
    await t.gate.close();
  }
}

describe('readiness during a ministry outage', () => {
  it('is not ready when one listed gate denies on outage, though the defaults pass', async () => {
    const r = await readinessDuringOutage([{ id: 'N1' }, { id: 'N2', policy: { ministryUnavailable: 'deny' } }]);
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('not-ready');
    expect(r.body.checks.ministry.ok).toBe(false);
    expect(r.body.checks.ministry.detail).toMatch(/denies on outage/);
  });

  it('stays ready when every gate has a fallback for the outage', async () => {
    const r = await readinessDuringOutage([{ id: 'N1' }, { id: 'N2', policy: { ministryUnavailable: 'last-known' } }]);
    expect(r.status).toBe(200);
    expect(r.body.checks.ministry).toMatchObject({ ok: true });
    expect(r.body.checks.ministry.detail).toMatch(/outage policy armed/);
  });
});
