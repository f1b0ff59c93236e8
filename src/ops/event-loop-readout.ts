/**
 * Event-loop delay for the live page: a perf_hooks histogram read and reset once per window, so
 * the page shows the last window's p99 and max (how long a tap may have waited to run), not
 * figures since start that one bad minute would own forever. The histogram samples on libuv's
 * timer, off the JavaScript path: no work on the tap's thread beyond one copy per window.
 * After a reset the histogram's next sample only restarts its clock, so a stall that begins
 * within one resolution of a window's end is not seen (10 ms of every 10 s).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoopDelayReadout } from './sources.js';

export interface LoopDelayMonitor extends LoopDelayReadout {
  stop(): void;
}

/**
 * Starts measuring; the first readout is there after `windowMs`. `onWindow` is told each
 * window's figures (tests wait on it).
 */
export function startLoopDelayReadout(windowMs = 10_000, resolutionMs = 10, onWindow?: (r: { maxMs: number; p99Ms: number } | null) => void): LoopDelayMonitor {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  let last: { maxMs: number; p99Ms: number } | null = null;
  const timer = setInterval(() => {
    // The histogram holds ns of whole sampling intervals (the resolution plus the delay): keep
    // the delay. An empty window reports nothing rather than zeros.
    const delay = (ns: number): number => Math.max(0, ns / 1e6 - resolutionMs);
    if (h.count > 0) last = { maxMs: delay(h.max), p99Ms: delay(h.percentile(99)) };
    h.reset();
    onWindow?.(last);
  }, windowMs);
  timer.unref();
  return {
    snapshot: () => last,
    stop: () => {
      clearInterval(timer);
      h.disable();
    },
  };
}
