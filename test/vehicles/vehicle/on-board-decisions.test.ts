/**
 * Deciding on board (docs/vehicles.md "Deciding on board"): a card tap on a vehicle is decided
 * from its signed list, through the same DecisionService and decide() as a station — every entry
 * class, fresh, stale and no list, the signed clock, repeat taps and profile hours. The list is a
 * real one (the list codec's buildState, fingerprints under a real list key); only time is driven.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { POLICY_DEFAULTS } from '../../../src/config/settings.js';
import { DecisionService } from '../../../src/decisions/decision-service.js';
import { RepeatTaps } from '../../../src/decisions/repeat-taps.js';
import { gateLookup } from '../../../src/policy/gate-lookup.js';
import type { GatePolicy } from '../../../src/policy/types.js';
import type { StatusLookup } from '../../../src/status/types.js';
import type { Credential, Decision, StatusOutcome, Timers } from '../../../src/types.js';
import { ListKey } from '../../../src/vehicles/list/list-key.js';
import { buildState } from '../../../src/vehicles/list/state.js';
import type { EntryValue } from '../../../src/vehicles/list/types.js';
import { CardList } from '../../../src/vehicles/vehicle/card-list.js';
import { SignedClock } from '../../../src/vehicles/vehicle/signed-clock.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T = Date.UTC(2026, 11, 8, 9); // 12:00 in Istanbul (utcOffsetMinutes 180)
const HORIZON = 48 * HOUR;
const MAX_AGE = 6 * HOUR;
const BITS = 40;

const key = ListKey.parse(`k1:${randomBytes(32).toString('base64')}`);

const CARDS: Record<string, EntryValue> = {
  '04A1B2C301': { cls: 'pass', validUntil: T + 10 * MINUTE, profile: 'standard' },
  '04A1B2C302': { cls: 'pass', validUntil: null, profile: 'standard' },
  '04A1B2C303': { cls: 'risky', validUntil: null, profile: 'standard' },
  '04A1B2C304': { cls: 'expired', validUntil: null, profile: 'standard' },
  '04A1B2C305': { cls: 'not-found', validUntil: null, profile: 'standard' },
  '04A1B2C306': { cls: 'unknown', validUntil: null, profile: 'standard' },
  '04A1B2C307': { cls: 'pass', validUntil: null, profile: 'senior' },
};
const [PASS_UNTIL, PASS, RISKY, EXPIRED, NOT_FOUND, UNKNOWN, SENIOR] = Object.keys(CARDS) as [string, string, string, string, string, string, string];
const NOT_LISTED = '04A1B2C3FF';

const noTimers: Timers = { setTimeout: () => 0, clearTimeout: () => undefined };

/** No HES code is on board: a card tap that reached the status service would be a leak of the design. */
const noStatus: StatusLookup = {
  lookup(): StatusOutcome {
    throw new Error('a card tap on board asked the status service');
  },
};

interface Board {
  tap(card: string, gate?: string): Decision;
  /** The vehicle's own clock. */
  set(t: number): void;
  signed: SignedClock;
}

function board(policy: Partial<GatePolicy> = {}, opts: { list?: boolean; issuedAt?: number; horizonMs?: number } = {}): Board {
  let now = T;
  const signed = new SignedClock(() => now);
  const list = new CardList({ fingerprint: (id, bits) => key.fingerprint(id, bits), clock: signed.now, maxListAgeMs: MAX_AGE });
  const issuedAt = opts.issuedAt ?? T;
  if (opts.list !== false) {
    list.swap({ version: 7, issuedAt, horizonMs: opts.horizonMs ?? HORIZON, state: buildState(BITS, Object.entries(CARDS).map(([id, value]) => ({ fp: key.fingerprint(id, BITS), value }))) });
    signed.saw(issuedAt);
  }
  const gatePolicy: GatePolicy = { ...POLICY_DEFAULTS, ...policy };
  const decisions = new DecisionService({
    status: noStatus,
    gates: gateLookup({ defaults: gatePolicy, requireKnown: false, list: [] }),
    clock: signed.now,
    cardList: list,
    repeatTaps: new RepeatTaps({ holdMs: gatePolicy.repeatTapWindowMs, clock: signed.now, timers: noTimers }),
  });
  return {
    signed,
    set: (t) => void (now = t),
    tap(card, gate = 'bus-front') {
      const c: Credential = { kind: 'card', value: card, gate, reader: 'front-reader', at: now };
      const r = decisions.decideNow(c);
      if (r === undefined || r instanceof Promise) throw new Error('a card tap on board must be answered in the tick');
      return { verdict: r.verdict, reason: r.reason, source: r.source };
    },
  };
}

const pass = (reason: Decision['reason'], source: Decision['source']): Decision => ({ verdict: 'pass', reason, source });
const deny = (reason: Decision['reason'], source: Decision['source']): Decision => ({ verdict: 'deny', reason, source });

describe('a card tap on board, from a fresh list', () => {
  it('decides every entry class as a station decides its status', () => {
    const b = board({ ministryUnavailable: 'last-known', lastKnownFallback: 'deny' });
    expect(b.tap(PASS_UNTIL)).toEqual(pass('RISKLESS', 'list'));
    expect(b.tap(PASS)).toEqual(pass('RISKLESS', 'list'));
    expect(b.tap(RISKY)).toEqual(deny('RISKY', 'list'));
    expect(b.tap(EXPIRED)).toEqual(deny('CODE_EXPIRED', 'list'));
    expect(b.tap(NOT_FOUND)).toEqual(deny('CODE_NOT_FOUND', 'list'));
    // `unknown`: the hub holds no status for the code; the outage policy decides, never RISKLESS.
    expect(b.tap(UNKNOWN)).toEqual(deny('MINISTRY_UNAVAILABLE', 'none'));
    expect(board({ ministryUnavailable: 'pass' }).tap(UNKNOWN)).toEqual(pass('MINISTRY_UNAVAILABLE', 'none'));
  });

  it('denies a card that is not on the list as unbound', () => {
    expect(board().tap(NOT_LISTED)).toEqual(deny('CARD_UNBOUND', 'none'));
  });

  it('stops a pass at its validUntil, and a null validUntil at issuedAt + horizonMs', () => {
    const b = board();
    b.set(T + 10 * MINUTE - 1);
    expect(b.tap(PASS_UNTIL)).toEqual(pass('RISKLESS', 'list'));
    b.set(T + 10 * MINUTE);
    expect(b.tap(PASS_UNTIL)).toEqual(deny('CODE_EXPIRED', 'list'));
    expect(b.tap(PASS)).toEqual(pass('RISKLESS', 'list'));
  });

  it('applies the profile hours of the gate', () => {
    const b = board({ profileHours: { senior: [{ from: '10:00', to: '11:00' }] } });
    expect(b.tap(SENIOR)).toEqual(deny('OUTSIDE_HOURS', 'list'));
    b.set(T - 90 * MINUTE); // 10:30 in Istanbul
    expect(b.tap(SENIOR)).toEqual(deny('OUTSIDE_HOURS', 'list')); // the clock set back: the signed clock is still at 12:00
    expect(b.tap(PASS)).toEqual(pass('RISKLESS', 'list'));
  });

  it('refuses a repeat tap on board as at a station, and passes again after the window', () => {
    const b = board({ repeatTapWindowMs: 2 * MINUTE });
    expect(b.tap(PASS)).toEqual(pass('RISKLESS', 'list'));
    expect(b.tap(PASS)).toEqual(deny('REPEAT_TAP', 'list'));
    expect(b.tap(PASS, 'bus-rear')).toEqual(pass('RISKLESS', 'list')); // another gate group
    b.set(T + 2 * MINUTE);
    expect(b.tap(PASS)).toEqual(pass('RISKLESS', 'list'));
  });
});

describe('a card tap on board, from a stale list or none', () => {
  it('past vehicle.maxListAgeMs the outage policy decides, with the list as the last-known status', () => {
    const b = board({ ministryUnavailable: 'last-known', lastKnownMaxAgeMs: 12 * HOUR, lastKnownFallback: 'deny' });
    b.set(T + MAX_AGE);
    expect(b.tap(PASS)).toEqual(pass('RISKLESS', 'list'));
    b.set(T + MAX_AGE + 1);
    expect(b.tap(PASS)).toEqual(pass('RISKLESS', 'stale'));
    expect(b.tap(RISKY)).toEqual(deny('RISKY', 'stale'));
    expect(b.tap(PASS_UNTIL)).toEqual(deny('CODE_EXPIRED', 'stale'));
    // Expired, not found and unknown have no last-known status: the fallback decides.
    expect(b.tap(EXPIRED)).toEqual(deny('MINISTRY_UNAVAILABLE', 'none'));
    expect(b.tap(NOT_FOUND)).toEqual(deny('MINISTRY_UNAVAILABLE', 'none'));
    expect(b.tap(NOT_LISTED)).toEqual(deny('CARD_UNBOUND', 'none'));
    // Older than the gate's lastKnownMaxAgeMs: nothing usable.
    b.set(T + 12 * HOUR + 1);
    expect(b.tap(PASS)).toEqual(deny('MINISTRY_UNAVAILABLE', 'none'));
  });

  it('a stale list never passes a card known RISKY, whatever the outage policy', () => {
    const b = board({ ministryUnavailable: 'pass' });
    b.set(T + MAX_AGE + 1);
    expect(b.tap(RISKY)).toEqual(deny('RISKY', 'stale'));
    expect(b.tap(PASS)).toEqual(pass('MINISTRY_UNAVAILABLE', 'none'));
  });

  it('a list past its horizon is stale even within vehicle.maxListAgeMs', () => {
    const b = board({ ministryUnavailable: 'deny' }, { issuedAt: T - HOUR, horizonMs: HOUR });
    b.set(T - 1);
    expect(b.tap(PASS)).toEqual(pass('RISKLESS', 'list'));
    b.set(T + 1);
    expect(b.tap(PASS)).toEqual(deny('MINISTRY_UNAVAILABLE', 'none'));
  });

  it('with no list yet, every card tap goes to the outage policy (source none)', () => {
    expect(board({ ministryUnavailable: 'deny' }, { list: false }).tap(PASS)).toEqual(deny('MINISTRY_UNAVAILABLE', 'none'));
    expect(board({ ministryUnavailable: 'last-known', lastKnownFallback: 'pass' }, { list: false }).tap(NOT_LISTED)).toEqual(pass('MINISTRY_UNAVAILABLE', 'none'));
  });
});

describe('the signed clock', () => {
  it('a vehicle clock set back never passes a code past its validUntil', () => {
    const b = board();
    // The vehicle verified a newer head (issued 20 minutes later) before its link dropped: that time has happened.
    b.signed.saw(T + 20 * MINUTE);
    b.set(T - HOUR);
    expect(b.tap(PASS_UNTIL)).toEqual(deny('CODE_EXPIRED', 'list'));
    expect(b.signed.behindMs()).toBe(80 * MINUTE);
    expect(b.tap(PASS)).toEqual(pass('RISKLESS', 'list'));
  });

  it('a clock set back never makes a stale list fresh again', () => {
    const b = board({ ministryUnavailable: 'deny' });
    b.signed.saw(T + MAX_AGE + MINUTE);
    b.set(T);
    expect(b.tap(PASS)).toEqual(deny('MINISTRY_UNAVAILABLE', 'none'));
  });

  it('a clock ahead is not corrected: it only stops codes early', () => {
    const b = board();
    b.set(T + 11 * MINUTE);
    expect(b.tap(PASS_UNTIL)).toEqual(deny('CODE_EXPIRED', 'list'));
    expect(b.signed.behindMs()).toBe(0);
  });
});
