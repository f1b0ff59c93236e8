/**
 * The order that sorts up to 2^32 fingerprints (integers below 2^52), in linear time: an LSD
 * radix sort of positions on four 13-bit digits. The hub sorts every bound card (8M in a large
 * city) for each snapshot; a comparison sort of positions costs several times more there
 * (bench/vehicle-list.ts), and Float64Array.prototype.sort would lose the value beside each key.
 */
const DIGIT_BITS = 13;
const RADIX = 1 << DIGIT_BITS;
const HALF = 2 ** 26;

/** Positions of `keys` in ascending key order; equal keys keep their input order (stable). */
export function radixOrder(keys: Float64Array): Uint32Array {
  const n = keys.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    const h = Math.floor(k / HALF);
    hi[i] = h;
    lo[i] = k - h * HALF;
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let next = new Uint32Array(n);
  const count = new Uint32Array(RADIX);
  for (let pass = 0; pass < 4; pass++) {
    const half = pass < 2 ? lo : hi;
    const shift = (pass % 2) * DIGIT_BITS;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(half[i]! >>> shift) & (RADIX - 1)]!++;
    // A digit every key shares (high bits of short fingerprints) leaves the order as it is.
    if (n === 0 || count[(half[0]! >>> shift) & (RADIX - 1)] === n) continue;
    let sum = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const p = order[i]!;
      next[count[(half[p]! >>> shift) & (RADIX - 1)]!++] = p;
    }
    [order, next] = [next, order];
  }
  return order;
}
