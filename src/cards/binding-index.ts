/**
 * The card bindings in memory, for the tap path: card id → HES code and profile without a
 * SQLite read (a read on the main thread's connection costs a tap ~15 µs inside a busy station,
 * most of it in the WAL's locks). Kept in step with the store by station-store.ts, which applies
 * every write the store worker reports, in the worker's order.
 *
 * Millions of bindings must fit a station's memory: a Map of objects costs ~157 B a binding at
 * 1M (measured, process.memoryUsage), so the bindings live in one byte arena and an
 * open-addressing table of offsets instead (~35–60 B a binding, docs/performance.md):
 *
 *   slots (Int32Array, power of two, ≤ half full, linear probing) ── offset + 1 ──┐
 *   arena (Uint8Array): … [id length][card id][code length][HES code][profile u16] …
 *   profiles: the distinct profile names, by number
 *
 * A deleted entry's bytes go to a free list of their size (a rebind of the same id is written in
 * place). Text that is not Latin-1 or longer than 255 characters (never a canonical id or code,
 * but an outside tool could write one) is kept in a small Map beside: nothing is dropped.
 */

export interface IndexedBinding {
  hesCode: string;
  profile: string;
}

const MIN_SLOTS = 1024;
const MAX_TEXT = 255;

function fits(s: string): boolean {
  if (s.length > MAX_TEXT) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return false;
  return true;
}

function hashText(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class BindingIndex {
  #slots: Int32Array;
  #mask: number;
  #arena: Uint8Array;
  /** Bytes of the arena in use (live and free entries). */
  #top = 0;
  #size = 0;
  /** Free entries by total size: the offset of the first; each holds the next's offset + 1. */
  readonly #free = new Map<number, number>();
  readonly #profiles: string[] = [];
  readonly #profileIds = new Map<string, number>();
  /** Bindings whose text does not fit the arena's layout. */
  readonly #odd = new Map<string, IndexedBinding>();

  /** `expected`: how many bindings are about to be loaded (sizes the table once). */
  constructor(expected = 0) {
    let n = MIN_SLOTS;
    while (n < expected * 2) n *= 2;
    this.#slots = new Int32Array(n);
    this.#mask = n - 1;
    this.#arena = new Uint8Array(Math.max(64 * 1024, expected * 32));
  }

  get size(): number {
    return this.#size + this.#odd.size;
  }

  /** Bytes held by the table and the arena (the Map beside is not counted: it is empty in practice). */
  get bytes(): number {
    return this.#slots.byteLength + this.#arena.byteLength;
  }

  get(cardId: string): IndexedBinding | undefined {
    if (this.#odd.size > 0) {
      const odd = this.#odd.get(cardId);
      if (odd !== undefined) return odd;
    }
    const slot = this.#find(cardId);
    if (slot < 0) return undefined;
    const a = this.#arena;
    let o = this.#slots[slot]! - 1;
    o += 1 + a[o]!;
    const codeLen = a[o]!;
    let hesCode = '';
    for (let i = 1; i <= codeLen; i++) hesCode += String.fromCharCode(a[o + i]!);
    o += 1 + codeLen;
    return { hesCode, profile: this.#profiles[a[o]! | (a[o + 1]! << 8)]! };
  }

  set(cardId: string, hesCode: string, profile: string): void {
    // A free entry keeps a 4-byte link after its first byte: shorter entries go beside too.
    if (!fits(cardId) || !fits(hesCode) || cardId.length + hesCode.length < 1) {
      this.delete(cardId);
      this.#odd.set(cardId, { hesCode, profile });
      return;
    }
    if (this.#odd.size > 0) this.#odd.delete(cardId);
    const p = this.#profileId(profile);
    if (p < 0) {
      this.delete(cardId);
      this.#odd.set(cardId, { hesCode, profile });
      return;
    }
    const size = 2 + cardId.length + hesCode.length + 2;
    const slot = this.#find(cardId);
    if (slot >= 0) {
      const old = this.#slots[slot]! - 1;
      if (this.#entrySize(old) === size) {
        this.#write(old, cardId, hesCode, p);
        return;
      }
      this.#release(old);
      this.#slots[slot] = this.#alloc(size, cardId, hesCode, p) + 1;
      return;
    }
    if ((this.#size + 1) * 2 > this.#slots.length) this.#grow();
    const at = this.#alloc(size, cardId, hesCode, p);
    let i = hashText(cardId) & this.#mask;
    while (this.#slots[i] !== 0) i = (i + 1) & this.#mask;
    this.#slots[i] = at + 1;
    this.#size++;
  }

  delete(cardId: string): void {
    if (this.#odd.size > 0 && this.#odd.delete(cardId)) return;
    let i = this.#find(cardId);
    if (i < 0) return;
    this.#release(this.#slots[i]! - 1);
    this.#size--;
    // Backward-shift deletion: the entries after the hole move up when their home allows it,
    // so a lookup's probe never stops early at a gap.
    const slots = this.#slots;
    const mask = this.#mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = slots[j]!;
      if (v === 0) break;
      const home = this.#hashAt(v - 1) & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!between) {
        slots[i] = v;
        i = j;
      }
    }
    slots[i] = 0;
  }

  #find(cardId: string): number {
    if (cardId.length > MAX_TEXT) return -1;
    const slots = this.#slots;
    const a = this.#arena;
    const n = cardId.length;
    let i = hashText(cardId) & this.#mask;
    for (;;) {
      const v = slots[i]!;
      if (v === 0) return -1;
      const o = v - 1;
      if (a[o] === n) {
        let k = 0;
        while (k < n && a[o + 1 + k] === cardId.charCodeAt(k)) k++;
        if (k === n) return i;
      }
      i = (i + 1) & this.#mask;
    }
  }

  #hashAt(o: number): number {
    const a = this.#arena;
    const n = a[o]!;
    let h = 0x811c9dc5;
    for (let k = 1; k <= n; k++) h = Math.imul(h ^ a[o + k]!, 0x01000193);
    return h >>> 0;
  }

  #entrySize(o: number): number {
    const a = this.#arena;
    return 2 + a[o]! + a[o + 1 + a[o]!]! + 2;
  }

  #profileId(profile: string): number {
    let p = this.#profileIds.get(profile);
    if (p === undefined) {
      if (this.#profiles.length > 0xffff) return -1;
      p = this.#profiles.length;
      this.#profiles.push(profile);
      this.#profileIds.set(profile, p);
    }
    return p;
  }

  #write(o: number, cardId: string, hesCode: string, profile: number): void {
    const a = this.#arena;
    a[o++] = cardId.length;
    for (let k = 0; k < cardId.length; k++) a[o++] = cardId.charCodeAt(k);
    a[o++] = hesCode.length;
    for (let k = 0; k < hesCode.length; k++) a[o++] = hesCode.charCodeAt(k);
    a[o++] = profile & 0xff;
    a[o] = profile >>> 8;
  }

  #alloc(size: number, cardId: string, hesCode: string, profile: number): number {
    let o = this.#free.get(size);
    if (o !== undefined) {
      const next = this.#readInt(o + 1);
      if (next === 0) this.#free.delete(size);
      else this.#free.set(size, next - 1);
    } else {
      if (this.#top + size > this.#arena.length) {
        const bigger = new Uint8Array(Math.max(this.#arena.length * 2, this.#top + size));
        bigger.set(this.#arena.subarray(0, this.#top));
        this.#arena = bigger;
      }
      o = this.#top;
      this.#top += size;
    }
    this.#write(o, cardId, hesCode, profile);
    return o;
  }

  /** An entry's bytes to the free list of its size; the id is zeroed (a deleted id is not left in memory). */
  #release(o: number): void {
    const size = this.#entrySize(o);
    this.#arena.fill(0, o, o + size);
    const head = this.#free.get(size);
    this.#writeInt(o + 1, head === undefined ? 0 : head + 1);
    this.#free.set(size, o);
  }

  #readInt(o: number): number {
    const a = this.#arena;
    return (a[o]! | (a[o + 1]! << 8) | (a[o + 2]! << 16) | (a[o + 3]! << 24)) >>> 0;
  }

  #writeInt(o: number, v: number): void {
    const a = this.#arena;
    a[o] = v & 0xff;
    a[o + 1] = (v >>> 8) & 0xff;
    a[o + 2] = (v >>> 16) & 0xff;
    a[o + 3] = v >>> 24;
  }

  #grow(): void {
    const old = this.#slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length - 1;
    for (const v of old) {
      if (v === 0) continue;
      let i = this.#hashAt(v - 1) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = v;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}
