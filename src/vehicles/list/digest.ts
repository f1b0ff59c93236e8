/**
 * A state's digest: what a file's header promises (ListHeader.stateDigest) and what a vehicle
 * checks after building a snapshot or applying a delta. It covers what the state *means* (which
 * fingerprints, each with which value), not how it is stored: two states with their palettes in
 * different orders, or with unused or repeated palette values, have one digest.
 *
 *   "hgvl-state-1\n" bits "\n" count "\n" the distinct values used, as canonical JSON, sorted, one a line
 *   then per entry: fingerprint as u64 big-endian, the rank of its value in that sorted list as u32 big-endian
 */
import { createHash } from 'node:crypto';
import { valueKey } from './entry-value.js';
import type { ListState } from './types.js';

const CHUNK = 65_536;

/** sha256 hex of the state's canonical encoding. */
export function stateDigest(state: ListState): string {
  const { fps, values, palette } = state;
  const used = new Uint8Array(palette.length);
  for (let i = 0; i < values.length; i++) used[values[i]!] = 1;
  const keys = palette.map(valueKey);
  const distinct = [...new Set(keys.filter((_, i) => used[i] === 1))].sort();
  const rankOfKey = new Map(distinct.map((k, r) => [k, r]));
  const rank = Uint32Array.from(keys, (k) => rankOfKey.get(k) ?? 0);
  const h = createHash('sha256');
  h.update(`hgvl-state-1\n${state.bits}\n${fps.length}\n${distinct.map((k) => `${k}\n`).join('')}`);
  const buf = Buffer.alloc(Math.min(CHUNK, fps.length) * 12);
  for (let at = 0; at < fps.length; at += CHUNK) {
    const end = Math.min(fps.length, at + CHUNK);
    let o = 0;
    for (let i = at; i < end; i++) {
      const fp = fps[i]!;
      const hi = Math.floor(fp / 2 ** 32);
      buf.writeUInt32BE(hi, o);
      buf.writeUInt32BE(fp - hi * 2 ** 32, o + 4);
      buf.writeUInt32BE(rank[values[i]!]!, o + 8);
      o += 12;
    }
    h.update(buf.subarray(0, o));
  }
  return h.digest('hex');
}
