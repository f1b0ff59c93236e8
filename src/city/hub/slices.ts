/**
 * Sealing and opening values costs tens of microseconds each (a cipher per value), and a hub's
 * batches hold hundreds: done in slices with a turn of the event loop between them, so a batch
 * never holds the thread that may also answer taps for more than a few milliseconds.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

export const SLICE = 100;

/** `fn` over every item, in order, yielding to the event loop after every SLICE items. */
export async function forEachInSlices<T>(items: readonly T[], fn: (item: T, index: number) => void): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % SLICE === 0) await nextTurn();
    fn(items[i]!, i);
  }
}
