/**
 * The live page's event-loop delay: a loop blocked for 250 ms shows as at least that much delay
 * in the window that saw it, and a quiet window afterwards does not carry it on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startLoopDelayReadout, type LoopDelayMonitor } from '../../src/ops/event-loop-readout.js';

let monitor: LoopDelayMonitor | undefined;
afterEach(() => monitor?.stop());

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Deliberately busy: this is the stall the readout must see.
  }
}

describe('event-loop delay readout', () => {
  it('reports a blocked loop in its window, and a quiet window after it', async () => {
    const windows: Array<{ maxMs: number; p99Ms: number } | null> = [];
    let wake: () => void = () => {};
    monitor = startLoopDelayReadout(200, 10, (r) => {
      windows.push(r);
      wake();
    });
    expect(monitor.snapshot()).toBeNull();
    const windowEnd = async (n: number): Promise<void> => {
      while (windows.length < n) await new Promise<void>((resolve) => (wake = resolve));
    };
    // A reset histogram's first sample only starts its clock: place the stall well inside the
    // second window (a position, not a wait for an outcome), then wait for that window to close.
    await windowEnd(1);
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
    block(250);
    await windowEnd(2);
    const stalled = monitor.snapshot()!;
    expect(stalled.maxMs).toBeGreaterThanOrEqual(230);
    expect(stalled.maxMs).toBeLessThan(2000);
    expect(stalled.p99Ms).toBeGreaterThanOrEqual(230);
    // The next window has no such stall (a busy test machine has shorter ones): its figures are its own.
    await windowEnd(3);
    expect(monitor.snapshot()!.maxMs).toBeLessThan(stalled.maxMs);
  });
});
