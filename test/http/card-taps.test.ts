import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from './helpers.js';

const ADMIN = { HES_GATE_ADMIN_TOKEN: 'admin-token-1' };
const auth = { authorization: 'Bearer admin-token-1', 'content-type': 'application/json' };

async function bind(url: string, cardId: string, hesCode: string, profile = 'standard'): Promise<number> {
  const res = await fetch(`${url}/v1/cards/${cardId}`, { method: 'PUT', headers: auth, body: JSON.stringify({ hesCode, profile }) });
  return res.status;
}

describe('card taps through the whole gate', () => {
  it('decides bound, unbound and risky cards, and reflects a refresh that turned a holder RISKY', async () => {
    const t = await startTestGate({ refresher: { enabled: false } }, ADMIN);
    try {
      expect(await bind(t.url, '04:a1:b2:c3', SAMPLE.RISKLESS)).toBe(201);
      expect(await bind(t.url, '04A1B2C4', SAMPLE.RISKY)).toBe(201);

      expect((await t.post({ gate: 'G1', card: '04A1B2C3' })).body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS', source: 'ministry' });
      expect((await t.post({ gate: 'G1', card: '04-a1-b2-c3' })).body).toMatchObject({ verdict: 'pass', source: 'cache' });
      expect((await t.post({ gate: 'G1', card: '04A1B2C4' })).body).toMatchObject({ verdict: 'deny', reason: 'RISKY' });
      expect((await t.post({ gate: 'G1', card: '04A1B2C5' })).body).toMatchObject({ verdict: 'deny', reason: 'CARD_UNBOUND', source: 'none' });

      // The holder turns RISKY at the ministry; the next refresh step (bulk call) brings it home.
      const sim = t.gate.simulator!;
      sim.setCode(SAMPLE.RISKLESS, { status: 'RISKY', expirationDate: '2070-12-31T20:59:59.000Z', note: 'flipped' });
      sim.resetCounts();
      const step = await t.gate.refresher.runOnce();
      expect(step.outcome).toBe('ok');
      expect(sim.counts().byPath['check-hes-codes']).toBe(1);
      expect((await t.post({ gate: 'G1', card: '04A1B2C3' })).body).toMatchObject({ verdict: 'deny', reason: 'RISKY', source: 'cache' });
    } finally {
      await t.gate.close();
    }
  });

  it('refuses a second tap of one card within the window at gates of the same group', async () => {
    const t = await startTestGate(
      {
        refresher: { enabled: false },
        gates: {
          list: [
            { id: 'N1', group: 'north', policy: { repeatTapWindowMs: 60_000 } },
            { id: 'N2', group: 'north', policy: { repeatTapWindowMs: 60_000 } },
            { id: 'S1', group: 'south', policy: { repeatTapWindowMs: 60_000 } },
            { id: 'X1', group: 'x' },
          ],
        },
      },
      ADMIN,
    );
    try {
      await bind(t.url, '04A1B2C3', SAMPLE.RISKLESS);
      expect((await t.post({ gate: 'N1', card: '04A1B2C3' })).body.verdict).toBe('pass');
      expect((await t.post({ gate: 'N2', card: '04A1B2C3' })).body).toMatchObject({ verdict: 'deny', reason: 'REPEAT_TAP' });
      expect((await t.post({ gate: 'S1', card: '04A1B2C3' })).body.verdict).toBe('pass');
      // Off by default: a gate without the window lets the card through again.
      expect((await t.post({ gate: 'X1', card: '04A1B2C3' })).body.verdict).toBe('pass');
      expect((await t.post({ gate: 'X1', card: '04A1B2C3' })).body.verdict).toBe('pass');
    } finally {
      await t.gate.close();
    }
  });

  it('keeps last-known statuses of bound codes across a restart, for an outage right after a reboot', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hes-gate-restart-'));
    const env = { ...ADMIN, HES_GATE_DATA_DIR: dataDir };
    const overrides = { refresher: { enabled: false }, cache: { risklessTtlMs: 1 } };
    const first = await startTestGate(overrides, env);
    try {
      await bind(first.url, '04A1B2C3', SAMPLE.RISKLESS);
      expect((await first.gate.refresher.runOnce()).outcome).toBe('ok');
    } finally {
      await first.gate.close();
    }

    const second = await startTestGate(overrides, env);
    try {
      second.gate.simulator!.setFaults({ status: 503 });
      const r = await second.post({ gate: 'G1', card: '04A1B2C3' });
      expect(r.body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS', source: 'stale' });
    } finally {
      await second.gate.close();
    }
  });
});

describe('a gate that requires vaccination, immunity or a recent negative test', () => {
  it('asks the plus calls and decides on their fields', async () => {
    const t = await startTestGate({ refresher: { enabled: false }, gates: { defaults: { requirement: 'vaccinated-immune-or-tested' } } });
    try {
      expect((await t.post({ gate: 'G1', hesCode: SAMPLE.PLUS_VACCINATED })).body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS', source: 'ministry' });
      expect((await t.post({ gate: 'G1', hesCode: SAMPLE.PLUS_NEGATIVE_TEST })).body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS' });
      expect((await t.post({ gate: 'G1', hesCode: SAMPLE.PLUS_NULLS })).body).toMatchObject({ verdict: 'deny', reason: 'REQUIREMENT_UNMET' });
      expect((await t.post({ gate: 'G1', hesCode: SAMPLE.PLUS_STRING_BOOLEANS })).body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS' });
      expect((await t.post({ gate: 'G1', hesCode: SAMPLE.PLUS_NULLS })).body).toMatchObject({ verdict: 'deny', reason: 'REQUIREMENT_UNMET', source: 'cache' });
      expect(t.gate.simulator!.counts().byPath['check-hes-code-plus']).toBe(4);
      expect(t.gate.simulator!.counts().byPath['check-hes-code']).toBe(0);
    } finally {
      await t.gate.close();
    }
  });
});
