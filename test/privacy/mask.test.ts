import { describe, expect, it } from 'vitest';
import { maskCardId, maskHesCode, maskQr } from '../../src/privacy/mask.js';

describe('masking', () => {
  it('keeps the first four characters of a HES code only', () => {
    expect(maskHesCode('a1b2-3456-78')).toBe('A1B2-****-**');
    expect(maskHesCode('A1B2345678')).not.toContain('345678');
    expect(maskHesCode('A1')).toBe('****-****-**');
  });

  it('keeps the last four hex digits of a card id only', () => {
    expect(maskCardId('04:a1:b2:c3:d4:e5:f6')).toBe('…E5F6');
    expect(maskCardId('04A1B2C3D4E5F6')).not.toContain('C3D4');
    expect(maskCardId('F6')).toBe('…**F6');
  });

  it('shows nothing of a QR payload but its length', () => {
    const payload = 'HES:A1B2345678:0:1700000000';
    expect(maskQr(payload)).toBe(`<qr ${payload.length} chars>`);
  });
});
