/**
 * Codes tapped recently, asked about first by the next refresher step: bounded (the oldest
 * tap is dropped beyond the capacity) and deduplicated (a code waits once however often it is
 * tapped), in tap order.
 */
import { isNormalizedHesCode } from '../credentials/hes-code.js';

export class RecentCodes {
  /** Insertion-ordered: the oldest tap first. */
  readonly #codes = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Queue a code; anything that is not a normalised HES code is ignored. */
  note(code: string): void {
    if (!isNormalizedHesCode(code) || this.#codes.has(code)) return;
    if (this.#codes.size >= this.#capacity) {
      const oldest = this.#codes.values().next().value;
      if (oldest !== undefined) this.#codes.delete(oldest);
    }
    this.#codes.add(code);
  }

  /** Remove and return up to `n` codes, the oldest taps first. */
  take(n: number): string[] {
    const out: string[] = [];
    for (const code of this.#codes) {
      if (out.length >= n) break;
      out.push(code);
    }
    for (const code of out) this.#codes.delete(code);
    return out;
  }

  get size(): number {
    return this.#codes.size;
  }
}

