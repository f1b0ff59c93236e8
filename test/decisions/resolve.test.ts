import { describe, expect, it } from 'vitest';
import { resolveCredential, type BindingLookup } from '../../src/decisions/resolve.js';
import type { Credential } from '../../src/types.js';

/** A binding table keyed by canonical card id, recording the ids it was asked for. */
function bindings(): BindingLookup & { asked: string[] } {
  const table = new Map([['04A1B2C3', { hesCode: 'A1B2345678', profile: 'student' }]]);
  const asked: string[] = [];
  return { asked, getBinding: (id) => (asked.push(id), table.get(id)) };
}

const tap = (kind: Credential['kind'], value: string, reader?: string): Credential => ({ kind, value, gate: 'G1', at: 0, ...(reader === undefined ? {} : { reader }) });

describe('resolveCredential', () => {
  it('canonicalises a validator\'s card id, then looks up its binding', () => {
    const b = bindings();
    expect(resolveCredential(tap('card', '04:a1:b2:c3'), b)).toEqual({ resolution: { kind: 'code', code: 'A1B2345678', profile: 'student' }, cardId: '04A1B2C3' });
    expect(resolveCredential(tap('card', '04:a1:b2:c4'), b)).toEqual({ resolution: { kind: 'unbound' }, cardId: '04A1B2C4' });
    expect(resolveCredential(tap('card', 'not a card'), b)).toEqual({ resolution: { kind: 'invalid' }, cardId: null });
    expect(b.asked).toEqual(['04A1B2C3', '04A1B2C4']);
  });

  it('takes a reader\'s card id as its profile made it (canonicalised once, in the reader)', () => {
    const b = bindings();
    expect(resolveCredential(tap('card', '04A1B2C3', 'R1'), b).resolution).toMatchObject({ kind: 'code' });
    expect(b.asked).toEqual(['04A1B2C3']);
  });

  it('strips a validator\'s AIM prefix once; a reader\'s payload arrives without it', () => {
    expect(resolveCredential(tap('qr', ']Q112345678901|A1B2345678'), undefined).resolution).toEqual({ kind: 'code', code: 'A1B2345678' });
    expect(resolveCredential(tap('qr', '12345678901|A1B2345678', 'R2'), undefined).resolution).toEqual({ kind: 'code', code: 'A1B2345678' });
    // Not stripped a second time: a payload that still starts with an identifier is not a code.
    expect(resolveCredential(tap('qr', ']Q1A1B2345678', 'R2'), undefined).resolution).toEqual({ kind: 'invalid' });
  });

  it('normalises a typed code; anything else is invalid', () => {
    expect(resolveCredential(tap('hes', 'a1b2-3456-78'), undefined).resolution).toEqual({ kind: 'code', code: 'A1B2345678' });
    expect(resolveCredential(tap('hes', 'A1B2'), undefined)).toEqual({ resolution: { kind: 'invalid' }, cardId: null });
  });
});
