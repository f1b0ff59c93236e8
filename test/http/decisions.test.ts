import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from './helpers.js';

type Gate = Awaited<ReturnType<typeof startTestGate>>;

describe('POST /v1/decisions against the embedded simulator', () => {
  let t: Gate;
  beforeAll(async () => {
    t = await startTestGate();
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it.each([
    ['RISKLESS', SAMPLE.RISKLESS, 'pass', 'RISKLESS'],
    ['RISKLESS until a near expiry', SAMPLE.RISKLESS_NEAR_EXPIRY, 'pass', 'RISKLESS'],
    ['RISKY', SAMPLE.RISKY, 'deny', 'RISKY'],
    ['RISKY, date without Z', SAMPLE.RISKY_NO_Z, 'deny', 'RISKY'],
    ['not found', SAMPLE.NOT_FOUND, 'deny', 'CODE_NOT_FOUND'],
    ['absent from the set', SAMPLE.ABSENT, 'deny', 'CODE_NOT_FOUND'],
    ['expired (errorKey)', SAMPLE.EXPIRED, 'deny', 'CODE_EXPIRED'],
    ['RISKLESS with an expiry in the past', SAMPLE.RISKLESS_PAST_EXPIRY, 'deny', 'CODE_EXPIRED'],
    ['an unknown health status', SAMPLE.UNKNOWN_STATUS, 'deny', 'MINISTRY_UNAVAILABLE'],
  ])('%s → %s %s, first from the ministry, then from the cache', async (_label, code, verdict, reason) => {
    const first = await t.post({ gate: 'G1', hesCode: code });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ verdict, reason });
    expect(first.body.decisionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/); // UUID v7
    expect(typeof first.body.elapsedMs).toBe('number');
    if (reason !== 'MINISTRY_UNAVAILABLE') {
      expect(first.body.source).toBe('ministry');
      const second = await t.post({ gate: 'G1', hesCode: code });
      expect(second.body).toMatchObject({ verdict, reason, source: 'cache' });
    } else {
      expect(first.body.source).toBe('none');
    }
  });

  it('reads a HES QR payload (AIM prefix, id part) and a typed code with dashes', async () => {
    expect((await t.post({ gate: 'G1', qr: `]Q112345678901|${SAMPLE.RISKY}` })).body).toMatchObject({ verdict: 'deny', reason: 'RISKY' });
    expect((await t.post({ gate: 'G1', hesCode: 'a1b2-3456-78' })).body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS' });
  });

  it('answers a malformed credential with a deny decision, not an API error', async () => {
    for (const body of [{ gate: 'G1', hesCode: 'A1B2' }, { gate: 'G1', qr: 'not a hes qr code!' }, { gate: 'G1', card: 'zz' }]) {
      const r = await t.post(body);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ verdict: 'deny', reason: 'CODE_INVALID', source: 'none' });
    }
  });

  it('denies a card that is not bound', async () => {
    expect((await t.post({ gate: 'G1', card: '04A1B2C3' })).body).toMatchObject({ verdict: 'deny', reason: 'CARD_UNBOUND', source: 'none' });
  });

  it.each([
    ['no credential', { gate: 'G1' }, 400, 'HG_BAD_REQUEST', /exactly one credential/],
    ['two credentials', { gate: 'G1', hesCode: SAMPLE.RISKLESS, qr: 'x' }, 400, 'HG_BAD_REQUEST', /more than one/],
    ['no gate', { hesCode: SAMPLE.RISKLESS }, 400, 'HG_BAD_REQUEST', /gate/],
    ['a gate that is not a string', { gate: 7, hesCode: SAMPLE.RISKLESS }, 400, 'HG_BAD_REQUEST', /gate/],
    ['an unknown field', { gate: 'G1', hesCode: SAMPLE.RISKLESS, name: 'x' }, 400, 'HG_BAD_REQUEST', /^unexpected field \(not named/],
    ['a body that is not JSON', '{"gate":', 400, 'HG_BAD_REQUEST', /JSON/],
    ['a body that is too large', { gate: 'G1', qr: 'x'.repeat(10_000) }, 413, 'HG_BODY_TOO_LARGE', /too large/],
  ])('refuses a request with %s', async (_label, body, status, code, message) => {
    const r = await t.post(body);
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.message).toMatch(message);
  });

  it('refuses a body that is not JSON by media type', async () => {
    const res = await fetch(`${t.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'A1B2345678' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).error.code).toBe('HG_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers unknown routes with a coded 404', async () => {
    const res = await fetch(`${t.url}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('HG_NOT_FOUND');
  });

  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).status).toBe('ready');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    for (const name of [
      'verdict="pass",reason="RISKLESS",source="cache"}',
      'hes_gate_decision_duration_seconds_bucket{le="0.15",gate=',
      'hes_gate_ministry_calls_total{endpoint="check-hes-code",outcome="ok"}',
      'hes_gate_ministry_call_duration_seconds_bucket',
      'hes_gate_status_lookups_total{result="hit"}',
      'hes_gate_status_cache_entries',
      'hes_gate_ministry_circuit_state 0',
      'process_resident_memory_bytes',
    ]) {
      expect(metrics).toContain(name);
    }
    // No HES code ever becomes a label or a value.
    for (const code of Object.values(SAMPLE)) expect(metrics).not.toContain(code);
  });

  it('never logs a full HES code or QR payload', () => {
    const all = t.logs.raw.join('\n');
    for (const code of Object.values(SAMPLE)) expect(all).not.toContain(code);
    expect(all).not.toContain('12345678901');
  });
});

describe('one ministry call for many concurrent lookups of one code', () => {
  it('1,000 concurrent taps of a new code cost one ministry call', async () => {
    const t = await startTestGate();
    try {
      const sim = t.gate.simulator!;
      sim.setCode('Q7R8000001', { status: 'RISKLESS', expirationDate: '2070-12-31T20:59:59.000Z', note: 'test' });
      sim.setFaults({ latencyMs: 50 }); // keep the call open while the taps pile up
      sim.resetCounts();
      const results = await Promise.all(Array.from({ length: 1000 }, () => t.gate.decisions.decide({ kind: 'hes', value: 'Q7R8000001', gate: 'G1', at: Date.now() })));
      expect(results.every((r) => r?.verdict === 'pass' && r.source === 'ministry')).toBe(true);
      expect(sim.counts().byCode['Q7R8000001']).toBe(1);
      expect(sim.counts().byPath['check-hes-code']).toBe(1);
    } finally {
      await t.gate.close();
    }
  });
});

describe('bearer token and known gates', () => {
  it('requires the API token when one is configured, refuses a wrong one, and never logs it', async () => {
    const t = await startTestGate({ gates: { requireKnown: true, list: [{ id: 'N1' }] } }, { HES_GATE_API_TOKEN: 'station-token-1' });
    try {
      expect((await t.post({ gate: 'N1', hesCode: SAMPLE.RISKLESS })).status).toBe(401);
      const wrong = await t.post({ gate: 'N1', hesCode: SAMPLE.RISKLESS }, { authorization: 'Bearer station-token-2' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('HG_UNAUTHORIZED');
      const ok = await t.post({ gate: 'N1', hesCode: SAMPLE.RISKLESS }, { authorization: 'Bearer station-token-1' });
      expect(ok.body.verdict).toBe('pass');
      const unknown = await t.post({ gate: 'S9', hesCode: SAMPLE.RISKLESS }, { authorization: 'Bearer station-token-1' });
      expect(unknown.status).toBe(422);
      expect(unknown.body.error.code).toBe('HG_GATE_UNKNOWN');
      // A gate named like a prototype member is unknown like any other (issue 20).
      for (const gate of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
        const proto = await t.post({ gate, hesCode: SAMPLE.RISKLESS }, { authorization: 'Bearer station-token-1' });
        expect([gate, proto.status, proto.body.error?.code]).toEqual([gate, 422, 'HG_GATE_UNKNOWN']);
      }
      expect(t.logs.raw.join('\n')).not.toContain('station-token-1');
      // Operational routes stay open for probes and scrapers.
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await t.gate.close();
    }
  });
});
