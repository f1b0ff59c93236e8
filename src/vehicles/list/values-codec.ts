/**
 * A list's values in a file: the palette once, as JSON, then one palette index per fingerprint,
 * run-length coded (encodeValues) and compressed with brotli. compactPalette() puts the most used
 * values first, and brotli's entropy coding brings the stream near the mix's entropy (1.35 bits a
 * card for the mix, whose entropy is about 1.25; bench/vehicle-list.ts).
 *
 * brotliCompressSync / brotliDecompressSync block their thread for up to seconds on a large city:
 * this module runs in worker threads on both sides (the hub's publisher, the vehicle's loader),
 * never on a thread that answers taps.
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { MAX_PALETTE, valueProblem } from './entry-value.js';
import { CodecError } from './rice.js';
import type { EntryValue } from './types.js';

const BROTLI = (quality: number, size: number) => ({
  params: { [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_GENERIC, [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: size },
});
/** A palette's JSON is at most this large inflated: 65,536 values of up to ~70 characters. */
const MAX_PALETTE_JSON = 8 * 1024 * 1024;

/**
 * The palette as brotli-compressed JSON of [class, validUntil, profile]. Passes that end within
 * the horizon make most of it (a minute × a profile each, thousands in a city); values used
 * equally often sit in canonical order, so neighbours share their validUntil's leading digits.
 */
export function encodePalette(palette: readonly EntryValue[]): Buffer {
  const json = Buffer.from(JSON.stringify(palette.map((v) => [v.cls, v.validUntil, v.profile])), 'utf8');
  return brotliCompressSync(json, BROTLI(11, json.length));
}

export function decodePalette(bytes: Uint8Array): EntryValue[] {
  let raw: unknown;
  try {
    raw = JSON.parse(brotliDecompressSync(bytes, { maxOutputLength: MAX_PALETTE_JSON }).toString('utf8'));
  } catch {
    throw new CodecError('a palette is not brotli-compressed JSON');
  }
  if (!Array.isArray(raw) || raw.length > MAX_PALETTE) throw new CodecError('a palette is not a list of values');
  return raw.map((t: unknown) => {
    if (!Array.isArray(t) || t.length !== 3) throw new CodecError('a palette value is not [class, validUntil, profile]');
    const v = { cls: t[0], validUntil: t[1], profile: t[2] };
    const problem = valueProblem(v);
    if (problem !== null) throw new CodecError(problem);
    return v as EntryValue;
  });
}

/**
 * The index stream before brotli: runs of index 0 (the most used value, compactPalette()) as
 * varint run lengths, each followed by the next other index less one: (run, index − 1)* run.
 * Most cards have the common value, so this cuts the symbols brotli codes by about four: on the
 * issue's mix, 1.35 bits a card at quality 10 against 1.50 for plain indices at quality 11, in a
 * fifth of the time (bench/vehicle-list.ts).
 */
export function encodeValues(values: Uint16Array): Buffer {
  const raw = Buffer.alloc(values.length * 4 + 5);
  let o = 0;
  const put = (x: number): void => {
    while (x >= 0x80) {
      raw[o++] = (x & 0x7f) | 0x80;
      x = Math.floor(x / 0x80);
    }
    raw[o++] = x;
  };
  let run = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === 0) {
      run++;
      continue;
    }
    put(run);
    put(v - 1);
    run = 0;
  }
  put(run);
  return brotliCompressSync(raw.subarray(0, o), BROTLI(10, o));
}

/** A LEB128 varint of at most 5 bytes (below 2^35) at raw[at]; CodecError when it runs off the end. */
function readVarint(raw: Buffer, at: { o: number }): number {
  let v = 0;
  let scale = 1;
  for (let n = 0; n < 5; n++) {
    if (at.o >= raw.length) throw new CodecError('a value stream ends early');
    const b = raw[at.o++]!;
    v += (b & 0x7f) * scale;
    if (b < 0x80) return v;
    scale *= 0x80;
  }
  throw new CodecError('a value stream holds a long varint');
}

/** `count` indices, each below `paletteSize`; CodecError for anything else (including a stream that inflates past its bound). */
export function decodeValues(bytes: Uint8Array, count: number, paletteSize: number): Uint16Array {
  if (count > 0 && paletteSize === 0) throw new CodecError('values without a palette');
  let raw: Buffer;
  try {
    raw = brotliDecompressSync(bytes, { maxOutputLength: count * 8 + 5 });
  } catch {
    throw new CodecError('a value stream does not inflate within its bound');
  }
  const out = new Uint16Array(count);
  const at = { o: 0 };
  let i = 0;
  for (;;) {
    const run = readVarint(raw, at);
    if (run > count - i) throw new CodecError('a value stream holds more values than its count');
    i += run; // out is zero-filled: a run of index 0 is already there
    if (i === count) break;
    const v = readVarint(raw, at) + 1;
    if (v >= paletteSize) throw new CodecError('a value outside the palette');
    out[i++] = v;
  }
  if (at.o !== raw.length) throw new CodecError('a value stream has bytes after its last value');
  return out;
}
