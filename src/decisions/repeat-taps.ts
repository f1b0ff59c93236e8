import { LRUCache } from 'lru-cache';

/**
 * When each card last passed, per gate group, for second-tap refusal. Bounded: the oldest
 * entries go first, and a pass older than any window is useless anyway.
 */
export class RepeatTaps {
  private readonly passes: LRUCache<string, number>;

  constructor(maxEntries = 200_000) {
    this.passes = new LRUCache<string, number>({ max: maxEntries });
  }

  lastPassAt(group: string, cardId: string): number | undefined {
    return this.passes.get(`${group}\u0000${cardId}`);
  }

  recordPass(group: string, cardId: string, at: number): void {
    this.passes.set(`${group}\u0000${cardId}`, at);
  }
}
