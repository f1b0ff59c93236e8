/**
 * Promise: a holder last known RISKY is denied after a restart, even when the ministry is down
 * and the gate's outage policy is `pass`. The refresher's statuses of bound codes are persisted
 * for exactly this; if RISKY ones were not, the restarted gate would know nothing about the
 * holder and the `pass` policy would let them through.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from '../http/helpers.js';
import { ADMIN_TOKEN, bindCard, logLine } from './helpers.js';

const RISKY_CARD = '04A1B2C3D4E5F6';
const RISKLESS_CARD = '04A1B2C3D4E5F7';

describe('statuses of bound codes survive a restart', () => {
  it('denies a card last known RISKY after a restart, under the pass outage policy with the ministry down', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hes-gate-restart-'));
    const env = { HES_GATE_DATA_DIR: dataDir, HES_GATE_ADMIN_TOKEN: ADMIN_TOKEN };

    // First life: bind two cards (refresher off, so nothing is asked yet).
    const binder = await startTestGate({ refresher: { enabled: false } }, env);
    try {
      await bindCard(binder.url, RISKY_CARD, SAMPLE.RISKY);
      await bindCard(binder.url, RISKLESS_CARD, SAMPLE.RISKLESS);
    } finally {
      await binder.gate.close();
    }

    // Second life: the refresher's first rotation asks about both bound codes in one bulk call.
    const refreshed = await startTestGate({}, env);
    try {
      await logLine(refreshed.logs, (l) => /rotation complete/.test(String(l.msg)) && l.codes === 2 && l.failedCalls === 0);
    } finally {
      await refreshed.gate.close();
    }

    // Third life: the ministry answers 503, the policy passes on outage, nothing counts as fresh
    // (so every tap asks the ministry and meets the outage), and the refresher is off.
    const second = await startTestGate(
      {
        refresher: { enabled: false },
        cache: { risklessTtlMs: 0, riskyTtlMs: 0 },
        gates: { defaults: { ministryUnavailable: 'pass' } },
      },
      env,
    );
    try {
      second.gate.simulator!.setFaults({ status: 503 });
      const risky = await second.post({ gate: 'G1', card: RISKY_CARD });
      expect(risky.body).toMatchObject({ verdict: 'deny', reason: 'RISKY', source: 'stale' });
      // The outage was real: the RISKLESS holder passed by the policy, not from a ministry answer.
      const riskless = await second.post({ gate: 'G1', card: RISKLESS_CARD });
      expect(riskless.body).toMatchObject({ verdict: 'pass', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
    } finally {
      await second.gate.close();
    }
  });
});
