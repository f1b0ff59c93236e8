/**
 * HES codes as people type them and as QR codes carry them.
 *
 * A code is shown as `XXXX-XXXX-XX`; the ministry wants 10 upper-case letters/digits without
 * dashes. The HES app's QR payload is `<id part>|<code>`: the id part may identify the
 * holder, so it is dropped here and never travels further than this function.
 */

const CODE_LENGTH = 10;

/** A normalised HES code, as the ministry wants it and as every store and wire holds it. */
export const HES_CODE_PATTERN = /^[A-Z0-9]{10}$/;

/** Whether `v` is a normalised HES code (`normalizeHesCode` returns only these). */
export function isNormalizedHesCode(v: unknown): v is string {
  return typeof v === 'string' && HES_CODE_PATTERN.test(v);
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Normalise a typed code: strip dashes and white space, upper-case, require exactly
 * 10 letters/digits. Returns null for anything else (the caller decides `CODE_INVALID`).
 */
export function normalizeHesCode(input: string): string | null {
  // Fast path: already canonical (the common case for validators and the refresher).
  if (input.length === CODE_LENGTH) {
    let canonical = true;
    for (let i = 0; i < CODE_LENGTH; i++) {
      const c = input.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90))) {
        canonical = false;
        break;
      }
    }
    if (canonical) return input;
  }
  if (input.length > 64) return null;
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 45 /* - */ || c === 32 || c === 9) continue;
    if (!isAlnum(c)) return null;
    out += input[i];
  }
  return out.length === CODE_LENGTH ? out.toUpperCase() : null;
}

/** Longest QR payload considered at all; real ones are well under 100 characters. */
const MAX_QR_LENGTH = 512;

/**
 * Extract the HES code from a HES QR payload: the part after the last `|` (or the whole
 * payload when there is none), with the CR/LF/GS/space/dash a scanner or a person may leave
 * stripped, must be exactly 10 letters/digits. The scanner's AIM prefix is already gone
 * (aim-prefix.ts, applied once per tap by the reader or the decision service).
 */
export function hesCodeFromQr(payload: string): string | null {
  if (payload.length === 0 || payload.length > MAX_QR_LENGTH) return null;
  let text = payload;
  const bar = text.lastIndexOf('|');
  if (bar >= 0) text = text.slice(bar + 1);
  let code = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isAlnum(c)) {
      if (code.length === CODE_LENGTH) return null;
      code += text[i];
    } else if (!(c === 45 || c <= 32 || c === 0x1d)) {
      return null;
    }
  }
  return code.length === CODE_LENGTH ? code.toUpperCase() : null;
}
