import { describe, expect, it } from 'vitest';
import { checkBinding, normalizeProfile } from '../../src/cards/binding.js';
import { splitCsvLine } from '../../src/cards/import-rows.js';

describe('bindings', () => {
  it('normalises profiles to a short lower-case word, empty → standard', () => {
    expect(normalizeProfile(undefined)).toBe('standard');
    expect(normalizeProfile(' Student ')).toBe('student');
    expect(normalizeProfile('over-65')).toBe('over-65');
    expect(normalizeProfile('')).toBe('standard');
    expect(normalizeProfile('two words')).toBeNull();
    expect(normalizeProfile('x'.repeat(33))).toBeNull();
  });

  it('names the first invalid field', () => {
    expect(checkBinding('04:a1:b2:c3', 'a1b2-3456-78')).toEqual({
      ok: true,
      binding: { cardId: '04A1B2C3', hesCode: 'A1B2345678', profile: 'standard' },
    });
    expect(checkBinding('nope', 'A1B2345678')).toEqual({ ok: false, problem: 'CARD_ID_INVALID' });
    expect(checkBinding('04A1B2C3', 'A1B234567')).toEqual({ ok: false, problem: 'HES_CODE_INVALID' });
    expect(checkBinding('04A1B2C3', 'A1B2345678', 'sen ior')).toEqual({ ok: false, problem: 'PROFILE_INVALID' });
  });
});

describe('splitCsvLine', () => {
  it('trims fields and reads minimal quoting', () => {
    expect(splitCsvLine(' a , b ,c')).toEqual(['a', 'b', 'c']);
    expect(splitCsvLine('"a,b", "c""d" ,')).toEqual(['a,b', 'c"d', '']);
    expect(splitCsvLine('a,"b')).toBeNull();
    expect(splitCsvLine('"a"x,b')).toBeNull();
    expect(splitCsvLine('')).toEqual(['']);
  });
});
