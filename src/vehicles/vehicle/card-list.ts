/**
 * The list a vehicle decides card taps from, on the tap's thread: a card id becomes its
 * fingerprint under the list key, a binary search finds its entry, list-outcome.ts says what the
 * entry means now. The state itself is built in the list worker (list-worker.ts) and only swapped
 * in here: a tap never waits for a download, a delta or a digest.
 */
import type { CardListLookup } from '../../decisions/decision-service.js';
import type { Clock, StatusOutcome } from '../../types.js';
import { lookup } from '../list/state.js';
import type { ListState } from '../list/types.js';
import { listOutcome, type ListTimes } from './list-outcome.js';

/** A verified version as the vehicle holds it. */
export interface HeldList extends ListTimes {
  version: number;
  state: ListState;
}

export interface CardListOptions {
  /** The list key's fingerprint (ListKey.fingerprint). */
  fingerprint: (canonicalCardId: string, bits: number) => number;
  /** The signed clock (signed-clock.ts). */
  clock: Clock;
  maxListAgeMs: number;
}

export class CardList implements CardListLookup {
  #held: HeldList | null = null;
  readonly #o: CardListOptions;

  constructor(o: CardListOptions) {
    this.#o = o;
  }

  /** The version held; null before any list was verified. */
  get held(): HeldList | null {
    return this.#held;
  }

  /** Take a verified version (built and checked in the list worker). */
  swap(held: HeldList): void {
    this.#held = held;
  }

  lookup(cardId: string): { profile: string; outcome: StatusOutcome } | undefined | 'no list' {
    const held = this.#held;
    if (held === null) return 'no list';
    const value = lookup(held.state, this.#o.fingerprint(cardId, held.state.bits));
    if (value === undefined) return undefined;
    return { profile: value.profile, outcome: listOutcome(value, held, this.#o.clock(), this.#o.maxListAgeMs) };
  }
}
