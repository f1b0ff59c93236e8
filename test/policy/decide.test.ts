import { describe, expect, it } from 'vitest';
import { decide, type DecideInput } from '../../src/policy/decide.js';
import type { StatusOutcome } from '../../src/types.js';
import type { GatePolicy } from '../../src/policy/types.js';
import type { StatusRecord } from '../../src/types.js';

const NOW = Date.UTC(2021, 8, 1, 9, 0, 0); // 12:00 in Türkiye
const policy: GatePolicy = {
  deadlineMs: 150,
  ministryUnavailable: 'last-known',
  lastKnownMaxAgeMs: 3_600_000,
  lastKnownFallback: 'deny',
  repeatTapWindowMs: 0,
  profileHours: {},
  requirement: 'none',
  negativeTestValidityMs: 72 * 3_600_000,
  utcOffsetMinutes: 180,
};
const riskless: StatusRecord = { status: 'RISKLESS', expiresAt: NOW + 86_400_000, fetchedAt: NOW - 1000 };
const risky: StatusRecord = { status: 'RISKY', expiresAt: NOW + 86_400_000, fetchedAt: NOW - 1000 };
const code = { kind: 'code', code: 'A1B2345678' } as const;

function run(status: StatusOutcome | undefined, over: Partial<DecideInput> = {}, pol: Partial<GatePolicy> = {}) {
  return decide({ now: NOW, policy: { ...policy, ...pol }, resolution: code, status, ...over });
}

describe('decide', () => {
  it('denies invalid codes and unbound cards without a status', () => {
    expect(decide({ now: NOW, policy, resolution: { kind: 'invalid' } })).toEqual({ verdict: 'deny', reason: 'CODE_INVALID', source: 'none' });
    expect(decide({ now: NOW, policy, resolution: { kind: 'unbound' } })).toEqual({ verdict: 'deny', reason: 'CARD_UNBOUND', source: 'none' });
  });

  it('passes RISKLESS and denies RISKY, keeping the source', () => {
    expect(run({ kind: 'status', record: riskless, source: 'cache' })).toEqual({ verdict: 'pass', reason: 'RISKLESS', source: 'cache' });
    expect(run({ kind: 'status', record: riskless, source: 'ministry' })).toEqual({ verdict: 'pass', reason: 'RISKLESS', source: 'ministry' });
    expect(run({ kind: 'status', record: risky, source: 'cache' })).toEqual({ verdict: 'deny', reason: 'RISKY', source: 'cache' });
  });

  it('denies a RISKLESS status whose code has expired', () => {
    const expired = { ...riskless, expiresAt: NOW };
    expect(run({ kind: 'status', record: expired, source: 'cache' })).toEqual({ verdict: 'deny', reason: 'CODE_EXPIRED', source: 'cache' });
  });

  it('maps not-found and expired findings', () => {
    expect(run({ kind: 'not-found', source: 'ministry' })).toEqual({ verdict: 'deny', reason: 'CODE_NOT_FOUND', source: 'ministry' });
    expect(run({ kind: 'expired', source: 'cache' })).toEqual({ verdict: 'deny', reason: 'CODE_EXPIRED', source: 'cache' });
  });

  describe('ministry unavailable', () => {
    it('deny policy denies', () => {
      expect(run({ kind: 'unavailable', lastKnown: riskless }, {}, { ministryUnavailable: 'deny' })).toEqual({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
    });
    it('pass policy passes, saying why', () => {
      expect(run({ kind: 'unavailable' }, {}, { ministryUnavailable: 'pass' })).toEqual({ verdict: 'pass', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
    });
    it('last-known uses a status within the maximum age', () => {
      expect(run({ kind: 'unavailable', lastKnown: riskless })).toEqual({ verdict: 'pass', reason: 'RISKLESS', source: 'stale' });
    });
    it('last-known falls back when the status is too old or absent', () => {
      const old = { ...riskless, fetchedAt: NOW - 3_600_001 };
      expect(run({ kind: 'unavailable', lastKnown: old })).toEqual({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
      expect(run({ kind: 'unavailable' }, {}, { lastKnownFallback: 'pass' })).toEqual({ verdict: 'pass', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
    });
    it('a holder last known RISKY never passes, whatever the policy', () => {
      for (const ministryUnavailable of ['deny', 'pass', 'last-known'] as const) {
        expect(run({ kind: 'unavailable', lastKnown: { ...risky, fetchedAt: NOW - 10 * 86_400_000 } }, {}, { ministryUnavailable, lastKnownFallback: 'pass' }).verdict).toBe('deny');
      }
    });
  });

  it('refuses a second tap inside the window, not after it', () => {
    const s: StatusOutcome = { kind: 'status', record: riskless, source: 'cache' };
    expect(run(s, { lastPassAt: NOW - 5_000 }, { repeatTapWindowMs: 10_000 })).toEqual({ verdict: 'deny', reason: 'REPEAT_TAP', source: 'cache' });
    expect(run(s, { lastPassAt: NOW - 10_000 }, { repeatTapWindowMs: 10_000 }).verdict).toBe('pass');
    expect(run(s, { lastPassAt: NOW - 5_000 }, { repeatTapWindowMs: 0 }).verdict).toBe('pass');
  });

  it('limits card profiles to their travel windows in local time', () => {
    const s: StatusOutcome = { kind: 'status', record: riskless, source: 'cache' };
    const hours = { senior: [{ from: '10:00', to: '16:00' }], night: [{ from: '22:00', to: '06:00' }] };
    const at = (resolution: DecideInput['resolution'], now = NOW) => decide({ now, policy: { ...policy, profileHours: hours }, resolution, status: s });
    expect(at({ kind: 'code', code: 'A1B2345678', profile: 'senior' }).verdict).toBe('pass');
    expect(at({ kind: 'code', code: 'A1B2345678', profile: 'senior' }, NOW + 5 * 3_600_000)).toEqual({ verdict: 'deny', reason: 'OUTSIDE_HOURS', source: 'cache' });
    expect(at({ kind: 'code', code: 'A1B2345678', profile: 'night' }).verdict).toBe('deny');
    expect(at({ kind: 'code', code: 'A1B2345678', profile: 'night' }, NOW + 12 * 3_600_000).verdict).toBe('pass');
    expect(at({ kind: 'code', code: 'A1B2345678', profile: 'standard' }).verdict).toBe('pass');
  });

  it('finds no travel window on Object.prototype: a profile named `constructor` or `toString` is unlisted (issue 20)', () => {
    const s: StatusOutcome = { kind: 'status', record: riskless, source: 'cache' };
    for (const profile of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(decide({ now: NOW, policy, resolution: { kind: 'code', code: 'A1B2345678', profile }, status: s }), profile).toEqual({ verdict: 'pass', reason: 'RISKLESS', source: 'cache' });
    }
    // Listed, `constructor` is a profile like any other.
    const listed = { ...policy, profileHours: { constructor: [{ from: '10:00', to: '11:00' }] } };
    expect(decide({ now: NOW, policy: listed, resolution: { kind: 'code', code: 'A1B2345678', profile: 'constructor' }, status: s })).toEqual({ verdict: 'deny', reason: 'OUTSIDE_HOURS', source: 'cache' });
  });

  describe('plus requirements', () => {
    const plus = (over: Partial<NonNullable<StatusRecord['plus']>>) => ({
      kind: 'status' as const,
      source: 'cache' as const,
      record: { ...riskless, plus: { isVaccinated: null, isImmune: null, isTestDataShared: null, lastNegativeTestAt: null, ...over } },
    });
    it('passes the vaccinated, and only them under "vaccinated"', () => {
      expect(run(plus({ isVaccinated: true }), {}, { requirement: 'vaccinated' }).verdict).toBe('pass');
      expect(run(plus({ isImmune: true }), {}, { requirement: 'vaccinated' })).toEqual({ verdict: 'deny', reason: 'REQUIREMENT_UNMET', source: 'cache' });
    });
    it('accepts immunity, then a recent negative test, as the requirement widens', () => {
      expect(run(plus({ isImmune: true }), {}, { requirement: 'vaccinated-or-immune' }).verdict).toBe('pass');
      expect(run(plus({ lastNegativeTestAt: NOW - 3_600_000 }), {}, { requirement: 'vaccinated-or-immune' }).verdict).toBe('deny');
      expect(run(plus({ lastNegativeTestAt: NOW - 3_600_000 }), {}, { requirement: 'vaccinated-immune-or-tested' }).verdict).toBe('pass');
      expect(run(plus({ lastNegativeTestAt: NOW - 73 * 3_600_000 }), {}, { requirement: 'vaccinated-immune-or-tested' }).reason).toBe('REQUIREMENT_UNMET');
    });
    it('refuses a negative test dated in the future (a wrong clock or a forged date is not a recent test)', () => {
      const tested = { requirement: 'vaccinated-immune-or-tested' } as const;
      expect(run(plus({ lastNegativeTestAt: NOW }), {}, tested).verdict).toBe('pass');
      expect(run(plus({ lastNegativeTestAt: NOW + 60_000 }), {}, tested)).toEqual({ verdict: 'deny', reason: 'REQUIREMENT_UNMET', source: 'cache' });
    });
    it('treats no consent (null) and missing plus fields as unmet', () => {
      expect(run(plus({}), {}, { requirement: 'vaccinated-immune-or-tested' }).reason).toBe('REQUIREMENT_UNMET');
      expect(run({ kind: 'status', record: riskless, source: 'cache' }, {}, { requirement: 'vaccinated' }).reason).toBe('REQUIREMENT_UNMET');
    });
    it('still denies RISKY first', () => {
      expect(run({ kind: 'status', record: { ...risky, plus: { isVaccinated: true, isImmune: null, isTestDataShared: null, lastNegativeTestAt: null } }, source: 'cache' }, {}, { requirement: 'vaccinated' }).reason).toBe('RISKY');
    });
  });

  it('is pure: same input, same output, input untouched', () => {
    const input: DecideInput = { now: NOW, policy, resolution: code, status: { kind: 'status', record: riskless, source: 'cache' } };
    const copy = structuredClone(input);
    expect(decide(input)).toEqual(decide(input));
    expect(input).toEqual(copy);
  });
});
