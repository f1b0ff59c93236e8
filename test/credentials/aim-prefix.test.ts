import { describe, expect, it } from 'vitest';
import { stripAimPrefix, VALIDATOR_AIM_RULES, type AimRules } from '../../src/credentials/aim-prefix.js';

describe('stripAimPrefix', () => {
  it('validators: strips an identifier of any symbology when present, keeps the text otherwise', () => {
    expect(stripAimPrefix(']Q112345678901|A1B2345678', VALIDATOR_AIM_RULES)).toEqual({ ok: true, payload: '12345678901|A1B2345678' });
    expect(stripAimPrefix(']d2ABC', VALIDATOR_AIM_RULES)).toEqual({ ok: true, payload: 'ABC' });
    expect(stripAimPrefix('12345678901|A1B2345678', VALIDATOR_AIM_RULES)).toEqual({ ok: true, payload: '12345678901|A1B2345678' });
  });

  it('a profile: only its symbologies, the identifier required or never looked for', () => {
    const optional: AimRules = { aimPrefix: 'optional', symbologies: ['Q'] };
    expect(stripAimPrefix(']Q1ABC', optional)).toEqual({ ok: true, payload: 'ABC' });
    expect(stripAimPrefix(']C0123456', optional)).toEqual({ ok: false, why: 'symbology' });
    expect(stripAimPrefix('ABC', { ...optional, aimPrefix: 'required' })).toEqual({ ok: false, why: 'symbology' });
    expect(stripAimPrefix(']Q1ABC', { ...optional, aimPrefix: 'none' })).toEqual({ ok: true, payload: ']Q1ABC' });
  });

  it('strips one identifier only', () => {
    expect(stripAimPrefix(']Q1]Q1ABC', VALIDATOR_AIM_RULES)).toEqual({ ok: true, payload: ']Q1ABC' });
  });
});
