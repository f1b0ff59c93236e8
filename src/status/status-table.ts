/**
 * Where the status cache keeps its entries: a fixed-capacity table of code → (kind, expiry,
 * fetched-at, plus fields) in least-recently-used order, built so that a million entries cost
 * the event loop nothing at any one moment.
 *
 *   code (≤ 10 of 0-9A-Z) ──pack──> two small integers ──open addressing (Int32Array)──> slot
 *   any other code (tests, odd input) ──> a Map ──> slot
 *   slot ──> columns: kinds (Uint8), expiresS / fetchedS (Int32), plus (sparse Map), LRU links (Int32)
 *   fetchedS ──> count of entries (the oldest-age figure without a walk)
 *
 * Measured on the no-stall figure (a refresher over 2M bound codes churning a 1M-entry cache),
 * the lru-cache it replaces stalled the loop for hundreds of ms at a time: V8 rebuilds a Map's
 * whole hash table at once when deletions have filled it (450 ms with a million codes), walking
 * the entries for the oldest age checked each against that Map (500 ms), and every new code
 * string and entry object kept alive made each young-generation collection longer (50–90 ms).
 * Here a held HES code is two integers in a typed array: no string, no object, no Map entry —
 * nothing for the garbage collector to trace — and the index never grows (sized for the
 * capacity at start).
 */
import type { PlusFields } from '../types.js';

/**
 * One cached answer, as the table hands it out (a copy: changing it changes nothing held).
 * Times are whole seconds relative to the cache's start (32-bit columns); freshness is derived
 * from the kind and the TTLs rather than stored.
 */
export interface Entry {
  /**
   * 0 RISKLESS, 1 RISKY, 2 not found, 3 expired, 4 unrecognised status, 5 unrecognised status
   * of a holder last known RISKY (who stays denied: the ministry has not said otherwise).
   */
  kind: 0 | 1 | 2 | 3 | 4 | 5;
  /** Code expiry, seconds since the cache's base (rounded down: a code is never held valid past it). */
  expiresS: number;
  /** When the ministry said this, seconds since the cache's base (rounded down: ages count slightly older). */
  fetchedS: number;
  /** Plus fields, only when the gate's requirement made us ask the plus calls. */
  plus: PlusFields | undefined;
}

/** Code characters: '0'-'9' → 1..10, 'A'-'Z' → 11..36; 0 is "no character" (shorter codes). */
const RADIX = 37;
const NONE = -1;

export class StatusTable {
  readonly capacity: number;
  /** Open addressing over packed codes, linear probing: slot + 1, or 0 for an empty cell. */
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly his: Int32Array;
  private readonly los: Int32Array;
  /** Codes that do not pack (not ≤ 10 of 0-9A-Z): rare, kept in a Map both ways. */
  private readonly other = new Map<string, number>();
  private readonly otherBySlot = new Map<number, string>();
  private readonly kinds: Uint8Array;
  private readonly expires: Int32Array;
  private readonly fetched: Int32Array;
  /** Plus fields by slot: only gates that require them ask for them, so few entries have any. */
  private readonly plus = new Map<number, PlusFields>();
  /** LRU links: `head` is the least recently used, `tail` the most. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE;
  private tail = NONE;
  private readonly freeSlots: Int32Array;
  private freeCount = 0;
  private used = 0;
  private count = 0;
  /** Entries by fetched-at second, and the smallest such second (undefined: look it up again). */
  private readonly byFetched = new Map<number, number>();
  private oldest: number | undefined;
  /** The last packed code (pack() writes here instead of allocating a pair). */
  private hi = 0;
  private lo = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError(`capacity must be a positive integer, got ${String(capacity)}`);
    this.capacity = capacity;
    let cells = 2;
    while (cells < capacity * 2) cells *= 2;
    // Typed arrays are zero pages until written: a large capacity costs memory as it fills.
    this.index = new Int32Array(cells);
    this.mask = cells - 1;
    this.his = new Int32Array(capacity);
    this.los = new Int32Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.expires = new Int32Array(capacity);
    this.fetched = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.freeSlots = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Pack a code into `hi`/`lo` (five characters each, base 37); false when it does not fit. */
  private pack(code: string): boolean {
    const n = code.length;
    if (n === 0 || n > 10) return false;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < 10; i++) {
      let v = 0;
      if (i < n) {
        const c = code.charCodeAt(i);
        if (c >= 48 && c <= 57) v = c - 47;
        else if (c >= 65 && c <= 90) v = c - 54;
        else return false;
      }
      if (i < 5) hi = hi * RADIX + v;
      else lo = lo * RADIX + v;
    }
    this.hi = hi;
    this.lo = lo;
    return true;
  }

  private home(hi: number, lo: number): number {
    let h = Math.imul(hi, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca77);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** The cell holding the packed code in `hi`/`lo`, or -1. */
  private cellOf(): number {
    const { hi, lo, index, mask } = this;
    for (let i = this.home(hi, lo); ; i = (i + 1) & mask) {
      const v = index[i]!;
      if (v === 0) return NONE;
      if (this.his[v - 1] === hi && this.los[v - 1] === lo) return i;
    }
  }

  private slotOf(code: string): number {
    if (!this.pack(code)) return this.other.get(code) ?? NONE;
    const cell = this.cellOf();
    return cell === NONE ? NONE : this.index[cell]! - 1;
  }

  private entryAt(slot: number): Entry {
    return { kind: this.kinds[slot] as Entry['kind'], expiresS: this.expires[slot]!, fetchedS: this.fetched[slot]!, plus: this.plus.get(slot) };
  }

  /** The entry for a code without counting a use. */
  peek(code: string): Entry | undefined {
    const slot = this.slotOf(code);
    return slot === NONE ? undefined : this.entryAt(slot);
  }

  /** The entry for a code, counted as a use (it becomes the most recently used). */
  get(code: string): Entry | undefined {
    const slot = this.slotOf(code);
    if (slot === NONE) return undefined;
    this.toTail(slot);
    return this.entryAt(slot);
  }

  /** Hold an entry for a code (the most recently used); when full, the least recently used goes. */
  set(code: string, e: Entry): void {
    let slot = this.slotOf(code);
    if (slot !== NONE) {
      this.uncountFetched(this.fetched[slot]!);
      this.toTail(slot);
    } else {
      if (this.count >= this.capacity) this.remove(this.head);
      slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount]! : this.used++;
      if (this.pack(code)) {
        this.his[slot] = this.hi;
        this.los[slot] = this.lo;
        let i = this.home(this.hi, this.lo);
        while (this.index[i] !== 0) i = (i + 1) & this.mask;
        this.index[i] = slot + 1;
      } else {
        this.other.set(code, slot);
        this.otherBySlot.set(slot, code);
      }
      this.count++;
      this.link(slot);
    }
    this.kinds[slot] = e.kind;
    this.expires[slot] = e.expiresS;
    this.fetched[slot] = e.fetchedS;
    if (e.plus === undefined) this.plus.delete(slot);
    else this.plus.set(slot, e.plus);
    this.countFetched(e.fetchedS);
  }

  delete(code: string): boolean {
    const slot = this.slotOf(code);
    if (slot === NONE) return false;
    this.remove(slot);
    return true;
  }

  /** The smallest fetched-at second held; undefined when empty. Cheap: no walk over the entries. */
  oldestFetchedS(): number | undefined {
    if (this.count === 0) return undefined;
    if (this.oldest === undefined) {
      let min = Infinity;
      for (const s of this.byFetched.keys()) if (s < min) min = s;
      this.oldest = min;
    }
    return this.oldest;
  }

  private remove(slot: number): void {
    const other = this.otherBySlot.get(slot);
    if (other !== undefined) {
      this.other.delete(other);
      this.otherBySlot.delete(slot);
    } else {
      this.hi = this.his[slot]!;
      this.lo = this.los[slot]!;
      this.unindex(this.cellOf());
    }
    this.plus.delete(slot);
    this.uncountFetched(this.fetched[slot]!);
    this.unlink(slot);
    this.freeSlots[this.freeCount++] = slot;
    this.count--;
  }

  /** Empty a cell, shifting later cells of the probe run back so every code stays findable. */
  private unindex(cell: number): void {
    const { index, mask } = this;
    let hole = cell;
    index[hole] = 0;
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const slot = index[j]! - 1;
      const home = this.home(this.his[slot]!, this.los[slot]!);
      // Move it into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        index[hole] = index[j]!;
        index[j] = 0;
        hole = j;
      }
    }
  }

  private countFetched(s: number): void {
    this.byFetched.set(s, (this.byFetched.get(s) ?? 0) + 1);
    if (this.count === 1) this.oldest = s;
    else if (this.oldest !== undefined && s < this.oldest) this.oldest = s;
  }

  private uncountFetched(s: number): void {
    const n = (this.byFetched.get(s) ?? 1) - 1;
    if (n > 0) this.byFetched.set(s, n);
    else {
      this.byFetched.delete(s);
      if (s === this.oldest) this.oldest = undefined;
    }
  }

  private link(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = NONE;
    if (this.tail === NONE) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
  }

  private toTail(slot: number): void {
    if (slot === this.tail) return;
    this.unlink(slot);
    this.link(slot);
  }
}
