/**
 * Transit card ids: the one canonicalisation every way in uses (a reader's tap, a validator's
 * request, the admin API, an import). The binding store keys on one form: upper-case hex, most
 * significant byte first, no separators.
 *
 *   text ─drop separators─> digits ─radix─> bytes ─byte order─> msb-first ─pad─> check length
 *
 * The same card reads differently on different readers (byte order, hex vs decimal, 3/4/7
 * bytes): a reader profile's `card` section (devices/*.json) gives its rules; people and
 * validators write hex in any case with `:`, `-`, `.` or white space between digits, and get
 * VALIDATOR_CARD_RULES. `encodeCardId` is the inverse, for the tap simulator.
 */

/** How a card id's text becomes the canonical id. A reader profile's `card` section is one. */
export interface CardIdRules {
  /** What is sent: hex digits or one decimal number. */
  encoding: 'hex' | 'decimal';
  /** Byte order of the text; `lsb-first` is reversed to canonical order. */
  byteOrder: 'msb-first' | 'lsb-first';
  /** Exact number of digits (separators excluded); other counts are rejected as `length`. */
  digits?: number;
  /** Left-pad the canonical id with zero bytes to this many bytes (a 3-byte Wiegand-26 id → 4). */
  padToBytes?: number;
  /** Accepted canonical lengths in bytes (after padding). */
  lengths: readonly number[];
}

export const CARD_ID_MIN_BYTES = 4;
export const CARD_ID_MAX_BYTES = 20;

/** A canonical card id (what `canonicalCardId` returns with VALIDATOR_CARD_RULES): whole bytes, upper-case hex. */
export const CARD_ID_PATTERN = new RegExp(`^(?:[0-9A-F]{2}){${CARD_ID_MIN_BYTES},${CARD_ID_MAX_BYTES}}$`);

/** Validators, the admin API and imports: hex, most significant byte first, 4 to 20 bytes. */
export const VALIDATOR_CARD_RULES: CardIdRules = Object.freeze({
  encoding: 'hex',
  byteOrder: 'msb-first',
  lengths: Object.freeze(Array.from({ length: CARD_ID_MAX_BYTES - CARD_ID_MIN_BYTES + 1 }, (_, i) => CARD_ID_MIN_BYTES + i)),
});

export type CardIdResult = { ok: true; id: string } | { ok: false; why: 'format' | 'length' };

const FORMAT: CardIdResult = Object.freeze({ ok: false, why: 'format' });
const LENGTH: CardIdResult = Object.freeze({ ok: false, why: 'length' });
/** Longest text looked at: every byte of the longest id written with a separator, and slack for spaces. */
const MAX_INPUT = CARD_ID_MAX_BYTES * 2 * 3;
/** Decimal ids up to 20 bytes have at most 49 digits; BigInt of anything longer is wasted work. */
const MAX_DECIMAL_DIGITS = 49;

function isSeparator(c: number): boolean {
  return c === 58 /* : */ || c === 45 /* - */ || c === 46 /* . */ || c === 32 || c === 9 || c === 10 || c === 13;
}

function isUpperHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70);
}

/** Canonicalise a card id's text by `rules`, or say why not: `format` (not hex/decimal) or `length`. */
export function canonicalCardId(text: string, rules: CardIdRules = VALIDATOR_CARD_RULES): CardIdResult {
  const n = text.length;
  if (n === 0) return FORMAT;
  if (n > MAX_INPUT) return LENGTH;
  // Fast path: already canonical for plain hex rules (the store's own keys, most readers).
  if (rules.encoding === 'hex' && rules.byteOrder === 'msb-first' && rules.padToBytes === undefined && (n & 1) === 0 && (rules.digits === undefined || rules.digits === n)) {
    let canonical = true;
    for (let i = 0; i < n; i++) {
      if (!isUpperHex(text.charCodeAt(i))) {
        canonical = false;
        break;
      }
    }
    if (canonical) return acceptsLength(rules, n / 2) ? { ok: true, id: text } : LENGTH;
  }
  let digits = '';
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (isSeparator(c)) continue;
    if (isUpperHex(c)) digits += text[i];
    else if (c >= 97 && c <= 102) digits += String.fromCharCode(c - 32);
    else return FORMAT;
  }
  if (rules.digits !== undefined && digits.length !== rules.digits) return LENGTH;
  let hex: string;
  if (rules.encoding === 'hex') {
    if (digits.length === 0 || (digits.length & 1) === 1) return FORMAT;
    hex = digits;
  } else {
    if (digits.length === 0 || !/^[0-9]+$/.test(digits)) return FORMAT;
    if (digits.length > MAX_DECIMAL_DIGITS) return LENGTH;
    hex = BigInt(digits).toString(16).toUpperCase();
    if ((hex.length & 1) === 1) hex = `0${hex}`;
    if (rules.padToBytes !== undefined) {
      // A decimal read lsb-first is reversed at its fixed width, so pad before reversing.
      if (hex.length / 2 > rules.padToBytes) return LENGTH;
      hex = hex.padStart(rules.padToBytes * 2, '0');
    }
  }
  if (rules.byteOrder === 'lsb-first') hex = reverseBytes(hex);
  if (rules.padToBytes !== undefined && hex.length / 2 < rules.padToBytes) hex = hex.padStart(rules.padToBytes * 2, '0');
  return acceptsLength(rules, hex.length / 2) ? { ok: true, id: hex } : LENGTH;
}

function acceptsLength(rules: CardIdRules, bytes: number): boolean {
  // The validator rules are a range: no array search on the HTTP tap path.
  return rules === VALIDATOR_CARD_RULES ? bytes >= CARD_ID_MIN_BYTES && bytes <= CARD_ID_MAX_BYTES : rules.lengths.includes(bytes);
}

/** What a reader with these rules sends for a canonical id (the inverse of `canonicalCardId`). */
export function encodeCardId(canonical: string, rules: CardIdRules): string {
  const clean = canonical.replace(/[\s:.-]/g, '');
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(clean)) throw new TypeError('a canonical card id is an even number of hex digits');
  let hex = clean.toUpperCase();
  const wireBytes = rules.encoding === 'hex' && rules.digits !== undefined ? rules.digits / 2 : undefined;
  if (wireBytes !== undefined) {
    while (hex.length / 2 > wireBytes && hex.startsWith('00')) hex = hex.slice(2);
    hex = hex.padStart(wireBytes * 2, '0');
  }
  if (rules.byteOrder === 'lsb-first') hex = reverseBytes(hex);
  if (rules.encoding === 'hex') return hex;
  const decimal = BigInt(`0x${hex}`).toString(10);
  return rules.digits === undefined ? decimal : decimal.padStart(rules.digits, '0');
}

function reverseBytes(hex: string): string {
  let out = '';
  for (let i = hex.length - 2; i >= 0; i -= 2) out += hex.slice(i, i + 2);
  return out;
}
