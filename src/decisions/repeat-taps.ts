/**
 * When each card last passed, per gate group, for second-tap refusal. A pass is held only as
 * long as the longest repeat-tap window of any gate — older, it refuses nothing, and a card id
 * kept past that is personal data kept for no purpose — and at most `maxEntries` passes.
 *
 *   recordPass ─> Map in pass order (a card passing again moves to the end)
 *                  ├─ over maxEntries: the oldest goes
 *                  └─ one timer, at the oldest pass's end: passes past holdMs go, in slices
 *
 * One timer for all passes, on the injected clock and timers, so a quiet station forgets too and
 * tests never sleep.
 */
import { systemTimers } from '../system-timers.js';
import type { GatePolicy } from '../policy/types.js';
import type { Clock, Timers } from '../types.js';

export interface RepeatTapsOptions {
  /** How long a pass is held, ms: the longest repeat-tap window of any gate (`longestRepeatTapWindow`). 0 holds nothing. */
  holdMs: number;
  /** The decisions' clock (pass times are read on it). */
  clock: Clock;
  /** Most passes held; beyond it the oldest goes first. @default 200000 */
  maxEntries?: number;
  /** @default unref'd global timers */
  timers?: Timers;
}

/** Passes dropped per turn of the timer: a long quiet spell ends in slices, never one long loop. */
const SLICE = 1000;

/** The longest `repeatTapWindowMs` among the default policy (unlisted gates) and every listed gate. */
export function longestRepeatTapWindow(gates: { defaults: GatePolicy; list: ReadonlyArray<{ policy: GatePolicy }> }): number {
  return Math.max(gates.defaults.repeatTapWindowMs, ...gates.list.map((g) => g.policy.repeatTapWindowMs));
}

export class RepeatTaps {
  readonly #passes = new Map<string, number>();
  readonly #holdMs: number;
  readonly #clock: Clock;
  readonly #max: number;
  readonly #timers: Timers;
  #timer: unknown;

  constructor(options: RepeatTapsOptions) {
    this.#holdMs = options.holdMs;
    this.#clock = options.clock;
    this.#max = options.maxEntries ?? 200_000;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Passes held now. */
  get size(): number {
    return this.#passes.size;
  }

  /** A pass not yet swept may be past holdMs: decide() compares it with the gate's window (≤ holdMs), so no clock read here on the tap. */
  lastPassAt(group: string, cardId: string): number | undefined {
    return this.#passes.get(`${group}\u0000${cardId}`);
  }

  recordPass(group: string, cardId: string, at: number): void {
    if (this.#holdMs <= 0) return;
    const key = `${group}\u0000${cardId}`;
    this.#passes.delete(key);
    this.#passes.set(key, at);
    if (this.#passes.size > this.#max) this.#passes.delete(this.#passes.keys().next().value!);
    this.#arm();
  }

  /** One timer, at the end of the oldest pass held. */
  #arm(): void {
    if (this.#timer !== undefined || this.#passes.size === 0) return;
    const oldest = this.#passes.values().next().value!;
    this.#timer = this.#timers.setTimeout(() => this.#expire(), Math.max(0, oldest + this.#holdMs - this.#clock() + 1));
  }

  #expire(): void {
    this.#timer = undefined;
    const horizon = this.#clock() - this.#holdMs;
    let dropped = 0;
    for (const [key, at] of this.#passes) {
      if (at >= horizon) break;
      this.#passes.delete(key);
      if (++dropped === SLICE) {
        // More may be due: the rest on the next turn, taps in between.
        this.#timer = this.#timers.setTimeout(() => this.#expire(), 0);
        return;
      }
    }
    this.#arm();
  }
}
