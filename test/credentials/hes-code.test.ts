import { describe, expect, it } from 'vitest';
import { hesCodeFromQr, normalizeHesCode } from '../../src/credentials/hes-code.js';

describe('normalizeHesCode', () => {
  it.each([
    ['A1B2345678', 'A1B2345678'],
    ['a1b2345678', 'A1B2345678'],
    ['A1B2-3456-78', 'A1B2345678'],
    [' a1b2 3456 78 ', 'A1B2345678'],
    ['a1b2-3456-78', 'A1B2345678'],
  ])('accepts %j', (input, expected) => {
    expect(normalizeHesCode(input)).toBe(expected);
  });

  it.each(['', 'A1B234567', 'A1B23456789', 'A1B2_345678', 'A1B2345678!', 'Ä1B2345678', 'x'.repeat(100)])('rejects %j', (input) => {
    expect(normalizeHesCode(input)).toBeNull();
  });
});

describe('hesCodeFromQr', () => {
  it('takes the code after the pipe and drops the id part', () => {
    expect(hesCodeFromQr('12345678901|A1B2345678')).toBe('A1B2345678');
    expect(hesCodeFromQr('0123456789abcdef0123456789abcdef|a1b2345678')).toBe('A1B2345678');
  });

  it('strips trailing framing bytes (the AIM prefix is stripped before, by aim-prefix.ts)', () => {
    expect(hesCodeFromQr('12345678901|A1B2345678\r\n')).toBe('A1B2345678');
    expect(hesCodeFromQr('12345678901|A1B2345678\u001d')).toBe('A1B2345678');
  });

  it('accepts a payload that is only a code, with or without dashes', () => {
    expect(hesCodeFromQr('A1B2-3456-78')).toBe('A1B2345678');
  });

  it.each([
    '',
    '12345678901|',
    '12345678901|A1B234567',
    '12345678901|XA1B2345678',
    'https://example.com/abcdef1234',
    '12345678901|A1B2#345678',
    'A'.repeat(600),
    ']Q1A1B2345678',
  ])('rejects %j', (payload) => {
    expect(hesCodeFromQr(payload)).toBeNull();
  });
});
