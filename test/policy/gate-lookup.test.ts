/** The rules about the configured gates as a whole, read from a configuration loaded like serve's. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { allPolicies, gateLookup, needsPlusFields, outageFallbackArmed } from '../../src/policy/gate-lookup.js';

const gatesOf = (gates: Record<string, unknown>) => loadConfig({ noFile: true, env: {}, overrides: { gates } }).config.gates;

describe('gate lookup', () => {
  const gates = gatesOf({
    defaults: { deadlineMs: 150 },
    list: [{ id: 'N1', group: 'north', policy: { deadlineMs: 300 } }],
  });

  it('a listed gate decides with its own group and policy', () => {
    expect(gateLookup(gates)('N1')).toMatchObject({ group: 'north', policy: { deadlineMs: 300 } });
  });

  it('an unlisted gate decides with the defaults in a group of its own, unless unknown gates are refused', () => {
    expect(gateLookup(gates)('S9')).toMatchObject({ group: 'S9', policy: { deadlineMs: 150 } });
    expect(gateLookup({ ...gates, requireKnown: true })('S9')).toBeUndefined();
    expect(gateLookup({ ...gates, requireKnown: true })('N1')).toMatchObject({ group: 'north' });
  });
});

describe('rules over every policy', () => {
  it('asks the plus calls only when some gate requires vaccination, immunity or a test', () => {
    expect(needsPlusFields(allPolicies(gatesOf({ list: [{ id: 'N1' }] })))).toBe(false);
    expect(needsPlusFields(allPolicies(gatesOf({ list: [{ id: 'N1' }, { id: 'N2', policy: { requirement: 'vaccinated' } }] })))).toBe(true);
    expect(needsPlusFields(allPolicies(gatesOf({ defaults: { requirement: 'vaccinated-or-immune' } })))).toBe(true);
  });

  it('the outage fallback is armed only when no gate denies on outage (one listed gate is enough to disarm it)', () => {
    expect(outageFallbackArmed(allPolicies(gatesOf({ list: [{ id: 'N1', policy: { ministryUnavailable: 'pass' } }] })))).toBe(true);
    expect(outageFallbackArmed(allPolicies(gatesOf({ list: [{ id: 'N1' }, { id: 'N2', policy: { ministryUnavailable: 'deny' } }] })))).toBe(false);
    expect(outageFallbackArmed(allPolicies(gatesOf({ defaults: { ministryUnavailable: 'deny' } })))).toBe(false);
  });
});
