import { describe, expect, it } from 'vitest';
import { GuardedMinistry } from '../../src/ministry/guard.js';
import { HesGateError, type ErrorCode } from '../../src/errors.js';
import type { MinistryClient } from '../../src/ministry/types.js';
import type { MinistryLookup } from '../../src/types.js';

/**
 * The guard's state machine against a scripted client: each call takes the next scripted
 * outcome. (The guard against the real simulator is covered by the fault-matrix tests.)
 */
function scripted() {
  const script: Array<ErrorCode | 'ok' | { retryAfterMs: number }> = [];
  let calls = 0;
  const next = async (): Promise<MinistryLookup> => {
    calls++;
    const step = script.shift() ?? 'ok';
    if (step === 'ok') return { kind: 'not-found' };
    if (typeof step === 'object') throw new HesGateError('HG_MINISTRY_RATE_LIMITED', '429', { details: { retryAfterMs: step.retryAfterMs } });
    throw new HesGateError(step, step);
  };
  const client = {
    checkHesCode: next,
    checkHesCodePlus: next,
    checkEmployeeHesCode: next,
    checkVisitorHesCode: next,
    checkHesCodes: async () => {
      await next();
      return new Map();
    },
    checkHesCodesPlus: async () => new Map(),
    close: async () => {},
  } as MinistryClient;
  return { client, script, calls: () => calls };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as HesGateError).code;
  }
}

describe('GuardedMinistry', () => {
  it('opens after consecutive failures, fails fast, probes, and closes on success', async () => {
    let now = 0;
    const s = scripted();
    const g = new GuardedMinistry(s.client, { clock: () => now, consecutiveFailures: 3, baseEjectionMs: 1000, maxRetries: 0 });
    const states: string[] = [];
    g.on('state', (e: { to: string }) => states.push(e.to));
    s.script.push('HG_MINISTRY_TIMEOUT', 'HG_MINISTRY_TIMEOUT', 'HG_MINISTRY_TIMEOUT');
    for (let i = 0; i < 3; i++) expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('HG_MINISTRY_TIMEOUT');
    expect(g.snapshot().state).toBe('open');
    expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('HG_MINISTRY_CIRCUIT_OPEN');
    expect(s.calls()).toBe(3);
    now += 1000;
    expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('ok');
    expect(g.snapshot().state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('lets one probe through at a time and ejects for longer after a failed probe', async () => {
    let now = 0;
    const s = scripted();
    const g = new GuardedMinistry(s.client, { clock: () => now, consecutiveFailures: 1, baseEjectionMs: 1000, maxRetries: 0 });
    s.script.push('HG_MINISTRY_CONNECTION');
    await codeOf(g.checkHesCode('A1B2345678'));
    now += 1000;
    s.script.push('HG_MINISTRY_SERVER_ERROR');
    const probe = g.checkHesCode('A1B2345678');
    expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('HG_MINISTRY_CIRCUIT_OPEN');
    expect(await codeOf(probe)).toBe('HG_MINISTRY_SERVER_ERROR');
    expect(g.snapshot()).toMatchObject({ state: 'open', ejections: 2, openUntil: now + 2000 });
  });

  it('opens on a high failure rate even without a long failure streak', async () => {
    let now = 0;
    const s = scripted();
    const g = new GuardedMinistry(s.client, { clock: () => now, consecutiveFailures: 100, failureRate: 0.5, minimumCalls: 10, maxRetries: 0 });
    for (let i = 0; i < 10; i++) s.script.push(i % 2 === 1 ? 'HG_MINISTRY_SERVER_ERROR' : 'ok');
    for (let i = 0; i < 10; i++) await codeOf(g.checkHesCode('A1B2345678'));
    expect(g.snapshot().state).toBe('open');
  });

  it('pauses for Retry-After on 429 without counting it as an outage', async () => {
    let now = 0;
    const s = scripted();
    const g = new GuardedMinistry(s.client, { clock: () => now, consecutiveFailures: 1 });
    s.script.push({ retryAfterMs: 5000 });
    expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('HG_MINISTRY_RATE_LIMITED');
    expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('HG_MINISTRY_RATE_LIMITED');
    expect(s.calls()).toBe(1);
    now += 5000;
    expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('ok');
    expect(g.snapshot().state).toBe('closed');
  });

  it('treats answers with odd data as the ministry being up', async () => {
    const s = scripted();
    const g = new GuardedMinistry(s.client, { clock: () => 0, consecutiveFailures: 1 });
    s.script.push('HG_MINISTRY_UNKNOWN_STATUS', 'HG_MINISTRY_UNKNOWN_ERROR');
    await codeOf(g.checkHesCode('A1B2345678'));
    await codeOf(g.checkHesCode('A1B2345678'));
    expect(g.snapshot().state).toBe('closed');
  });

  it('retries a reset once inside the budget, but not a timeout', async () => {
    const s = scripted();
    const g = new GuardedMinistry(s.client, { clock: () => 0, consecutiveFailures: 10, maxRetries: 1 });
    s.script.push('HG_MINISTRY_CONNECTION');
    expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('ok');
    expect(s.calls()).toBe(2);
    s.script.push('HG_MINISTRY_TIMEOUT');
    expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('HG_MINISTRY_TIMEOUT');
    expect(s.calls()).toBe(3);
    expect(g.snapshot().retries).toBe(1);
  });

  it('does not retry when too little of the call budget is left', async () => {
    let now = 0;
    const s = scripted();
    const inner = s.client.checkHesCode;
    s.client.checkHesCode = async (c) => {
      now += 1900; // the attempt used most of the 2 s budget
      return inner(c);
    };
    const g = new GuardedMinistry(s.client, { clock: () => now, consecutiveFailures: 10, maxRetries: 3, callBudgetMs: 2000 });
    s.script.push('HG_MINISTRY_CONNECTION');
    expect(await codeOf(g.checkHesCode('A1B2345678'))).toBe('HG_MINISTRY_CONNECTION');
    expect(s.calls()).toBe(1);
  });

  it('sheds calls beyond the in-flight cap without counting them as failures', async () => {
    const s = scripted();
    const release: Array<() => void> = [];
    s.client.checkHesCode = () => new Promise((resolve) => release.push(() => resolve({ kind: 'not-found' })));
    const g = new GuardedMinistry(s.client, { clock: () => 0, consecutiveFailures: 1, maxInFlight: 2 });
    const a = g.checkHesCode('A1B2345678');
    const b = g.checkHesCode('C3D4567890');
    expect(await codeOf(g.checkHesCode('E5F6789012'))).toBe('HG_MINISTRY_BUSY');
    release.forEach((r) => r());
    expect([await codeOf(a), await codeOf(b)]).toEqual(['ok', 'ok']);
    expect(g.snapshot()).toMatchObject({ state: 'closed', shed: 1 });
    const c = g.checkHesCode('E5F6789012');
    release.at(-1)!();
    expect(await codeOf(c)).toBe('ok');
  });

  it('keeps retries within the retry budget', async () => {
    const s = scripted();
    const g = new GuardedMinistry(s.client, { clock: () => 0, consecutiveFailures: 1000, maxRetries: 1, retryBudgetMin: 2, retryBudgetRatio: 0 });
    for (let i = 0; i < 20; i++) s.script.push('HG_MINISTRY_CONNECTION');
    const results = await Promise.all(Array.from({ length: 10 }, () => codeOf(g.checkHesCode('A1B2345678'))));
    expect(results.filter((r) => r === 'HG_MINISTRY_CONNECTION').length).toBeGreaterThan(0);
    const snap = g.snapshot();
    expect(snap.retries).toBe(2);
    expect(snap.retriesDenied).toBe(8);
  });
});
