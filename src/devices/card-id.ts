/**
 * Card id canonicalisation. The same card reads differently on different readers (byte order,
 * hex vs decimal, 3/4/7 bytes); the binding store keys on one form: upper-case hex, most
 * significant byte first, no separators. `encodeCardId` is the inverse, for the tap simulator.
 *
 *   wire text ─strip separators─> digits ─radix─> bytes ─byte order─> msb-first ─pad─> check length
 */
import type { CardDecoding } from './profiles.js';

export type CardIdResult = { ok: true; id: string } | { ok: false; why: 'format' | 'length' };

const SEPARATORS = /[\s:.-]/g;

export function canonicalCardId(text: string, card: CardDecoding): CardIdResult {
  const digits = text.replace(SEPARATORS, '');
  if (card.digits !== undefined && digits.length !== card.digits) return { ok: false, why: 'length' };
  let bytes: Buffer;
  if (card.encoding === 'hex') {
    if (!/^(?:[0-9A-Fa-f]{2})+$/.test(digits)) return { ok: false, why: 'format' };
    bytes = Buffer.from(digits, 'hex');
  } else {
    if (!/^[0-9]{1,48}$/.test(digits)) return { ok: false, why: 'format' };
    let hex = BigInt(digits).toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    bytes = Buffer.from(hex, 'hex');
    if (card.padToBytes !== undefined) {
      if (bytes.length > card.padToBytes) return { ok: false, why: 'length' };
      bytes = leftPad(bytes, card.padToBytes);
    }
  }
  if (card.byteOrder === 'lsb-first') bytes = Buffer.from(bytes).reverse();
  if (card.padToBytes !== undefined && bytes.length < card.padToBytes) bytes = leftPad(bytes, card.padToBytes);
  if (!card.lengths.includes(bytes.length)) return { ok: false, why: 'length' };
  return { ok: true, id: bytes.toString('hex').toUpperCase() };
}

/** What a reader with this decoding sends for a canonical id (the inverse of `canonicalCardId`). */
export function encodeCardId(canonical: string, card: CardDecoding): string {
  const clean = canonical.replace(SEPARATORS, '');
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(clean)) throw new TypeError('a canonical card id is an even number of hex digits');
  let bytes: Buffer = Buffer.from(clean, 'hex');
  const wireBytes = card.encoding === 'hex' && card.digits !== undefined ? card.digits / 2 : undefined;
  if (wireBytes !== undefined) {
    while (bytes.length > wireBytes && bytes[0] === 0) bytes = bytes.subarray(1);
    if (bytes.length < wireBytes) bytes = leftPad(bytes, wireBytes);
  }
  if (card.byteOrder === 'lsb-first') bytes = Buffer.from(bytes).reverse();
  if (card.encoding === 'hex') return bytes.toString('hex').toUpperCase();
  const decimal = bytes.length === 0 ? '0' : BigInt(`0x${bytes.toString('hex')}`).toString(10);
  return card.digits === undefined ? decimal : decimal.padStart(card.digits, '0');
}

function leftPad(bytes: Buffer, length: number): Buffer {
  return bytes.length >= length ? bytes : Buffer.concat([Buffer.alloc(length - bytes.length), bytes]);
}
