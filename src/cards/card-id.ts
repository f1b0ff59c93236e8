/**
 * Canonical transit card ids: upper-case hexadecimal, no separators, 4 to 20 bytes.
 *
 * Readers and people write the same UID as `04:a1:b2:c3`, `04-A1-B2-C3`, `04 a1 b2 c3` or
 * `04A1B2C3`; the binding store keys on one spelling only, so every way in (tap, import,
 * admin API) goes through this function first.
 */

export const CARD_ID_MIN_BYTES = 4;
export const CARD_ID_MAX_BYTES = 20;

const MIN_DIGITS = CARD_ID_MIN_BYTES * 2;
const MAX_DIGITS = CARD_ID_MAX_BYTES * 2;
/** Longest input looked at: every byte written with a separator and some slack for spaces. */
const MAX_INPUT = MAX_DIGITS * 3;

function isSeparator(c: number): boolean {
  return c === 58 /* : */ || c === 45 /* - */ || c === 32 /* space */;
}

/**
 * Canonicalise a card id: accepts `:`, `-` and spaces as separators and any letter case;
 * requires 8 to 40 hex digits, an even number of them. Returns null for anything else.
 */
export function canonicalCardId(input: string): string | null {
  const n = input.length;
  // Fast path: already canonical (the tap path and the store's own keys).
  if (n >= MIN_DIGITS && n <= MAX_DIGITS && (n & 1) === 0) {
    let canonical = true;
    for (let i = 0; i < n; i++) {
      const c = input.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70))) {
        canonical = false;
        break;
      }
    }
    if (canonical) return input;
  }
  if (n === 0 || n > MAX_INPUT) return null;
  let out = '';
  for (let i = 0; i < n; i++) {
    const c = input.charCodeAt(i);
    if (isSeparator(c)) continue;
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 70)) out += input[i];
    else if (c >= 97 && c <= 102) out += String.fromCharCode(c - 32);
    else return null;
  }
  if (out.length < MIN_DIGITS || out.length > MAX_DIGITS || (out.length & 1) !== 0) return null;
  return out;
}
