/**
 * Sorted fingerprints as Golomb-Rice codes of their gaps: what makes a list cost about
 * log2(2^bits / count) + 1.5 bits per card instead of `bits`.
 *
 *   fps  f0 < f1 < f2 …      gaps  g0 = f0, gi = fi − f(i−1) − 1
 *   each gap: q = gap >> k in unary (q ones, a zero), then its low k bits
 *             q ≥ 48 (never for fingerprints of a keyed MAC, possible for a crafted set):
 *             48 ones, then the whole gap in `bits` bits
 *
 * k comes from count and bits (riceParameter): the gaps of uniform fingerprints are close to
 * geometric with mean 2^bits / count, whose best Rice parameter is about log2(mean · ln 2).
 * Bits are written most significant first; the last byte is padded with zeros.
 */
const ESCAPE = 48;
const TWO24 = 2 ** 24;

/** Malformed input to a decoder: the caller turns it into a refusal. */
export class CodecError extends Error {}

export function riceParameter(count: number, bits: number): number {
  if (count <= 0) return 0;
  const mean = 2 ** bits / count;
  return Math.max(0, Math.min(bits, Math.round(Math.log2(mean * Math.LN2))));
}

class BitWriter {
  #buf: Uint8Array;
  #pos = 0;
  #acc = 0;
  #n = 0;

  constructor(sizeHint: number) {
    this.#buf = new Uint8Array(Math.max(16, sizeHint));
  }

  /** Write the low `c` (≤ 24) bits of v. */
  write(v: number, c: number): void {
    this.#acc = (this.#acc << c) | v;
    this.#n += c;
    while (this.#n >= 8) {
      this.#n -= 8;
      if (this.#pos === this.#buf.length) {
        const b = new Uint8Array(this.#buf.length * 2);
        b.set(this.#buf);
        this.#buf = b;
      }
      this.#buf[this.#pos++] = (this.#acc >>> this.#n) & 0xff;
    }
    this.#acc &= (1 << this.#n) - 1;
  }

  /** Write `c` (≤ 53) bits of a non-negative integer below 2^c. */
  writeLong(v: number, c: number): void {
    if (c <= 24) {
      this.write(v, c);
      return;
    }
    const high = Math.floor(v / TWO24);
    this.writeLong(high, c - 24);
    this.write(v - high * TWO24, 24);
  }

  finish(): Uint8Array {
    if (this.#n > 0) this.write(0, 8 - this.#n);
    return this.#buf.subarray(0, this.#pos);
  }
}

class BitReader {
  readonly #bytes: Uint8Array;
  #pos = 0;
  #acc = 0;
  #n = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Read `c` (≤ 24) bits. */
  read(c: number): number {
    while (this.#n < c) {
      if (this.#pos >= this.#bytes.length) throw new CodecError('a fingerprint stream ends early');
      this.#acc = (this.#acc << 8) | this.#bytes[this.#pos++]!;
      this.#n += 8;
    }
    this.#n -= c;
    const v = (this.#acc >>> this.#n) & ((1 << c) - 1);
    this.#acc &= (1 << this.#n) - 1;
    return v;
  }

  readLong(c: number): number {
    if (c <= 24) return this.read(c);
    const high = this.readLong(c - 24);
    return high * TWO24 + this.read(24);
  }

  /** Ones before the next zero, at most `limit` (then no zero is read). */
  unary(limit: number): number {
    let q = 0;
    for (;;) {
      if (this.#n === 0) {
        if (this.#pos >= this.#bytes.length) throw new CodecError('a fingerprint stream ends early');
        this.#acc = this.#bytes[this.#pos++]!;
        this.#n = 8;
      }
      // The remaining bits of acc, left-aligned in 32: leading ones are the run.
      const ones = Math.clz32(~(this.#acc << (32 - this.#n)));
      const run = Math.min(ones, this.#n, limit - q);
      q += run;
      this.#n -= run;
      this.#acc &= (1 << this.#n) - 1;
      if (q === limit) return q;
      if (this.#n > 0) {
        this.#n--;
        this.#acc &= (1 << this.#n) - 1;
        return q;
      }
    }
  }

  /** True when only the zero padding of the last byte is left. */
  atEnd(): boolean {
    return this.#pos === this.#bytes.length && this.#acc === 0;
  }
}

/** Encode strictly increasing integers below 2^bits (not checked here: states and deltas are). */
export function encodeFingerprints(fps: Float64Array, bits: number): { k: number; bytes: Uint8Array } {
  const k = riceParameter(fps.length, bits);
  const unit = 2 ** k;
  const w = new BitWriter(Math.ceil((fps.length * (k + 3)) / 8));
  let prev = -1;
  for (let i = 0; i < fps.length; i++) {
    const fp = fps[i]!;
    const gap = fp - prev - 1;
    prev = fp;
    const q = Math.floor(gap / unit);
    if (q >= ESCAPE) {
      w.write(0xffffff, 24);
      w.write(0xffffff, 24);
      w.writeLong(gap, bits);
      continue;
    }
    let ones = q;
    while (ones >= 24) {
      w.write(0xffffff, 24);
      ones -= 24;
    }
    w.write(((1 << ones) - 1) << 1, ones + 1);
    w.writeLong(gap - q * unit, k);
  }
  return { k, bytes: w.finish() };
}

/** Decode `count` fingerprints; CodecError when the stream is short, long, or leaves [0, 2^bits). */
export function decodeFingerprints(bytes: Uint8Array, count: number, bits: number, k: number): Float64Array {
  if (k > bits) throw new CodecError('a Rice parameter above the fingerprint length');
  // Every code takes at least one bit: a count beyond that is refused before it is allocated.
  if (count > bytes.length * 8) throw new CodecError('more fingerprints than the stream can hold');
  const r = new BitReader(bytes);
  const out = new Float64Array(count);
  const unit = 2 ** k;
  const limit = 2 ** bits;
  let prev = -1;
  for (let i = 0; i < count; i++) {
    const q = r.unary(ESCAPE);
    const gap = q === ESCAPE ? r.readLong(bits) : q * unit + r.readLong(k);
    const fp = prev + 1 + gap;
    if (fp >= limit) throw new CodecError('a fingerprint beyond its length');
    out[i] = fp;
    prev = fp;
  }
  if (!r.atEnd()) throw new CodecError('a fingerprint stream has bytes after its last code');
  return out;
}
