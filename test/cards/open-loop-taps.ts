/**
 * Taps at a steady rate while something else runs, measured as a gate would feel them: from
 * the time each tap was *meant* to be sent, not from when a stalled event loop got round to
 * sending it. The service runs in this process, so the event-loop delay measured here is the
 * service's own.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface TapRun<T> {
  result: T;
  /** Per tap: answer time minus intended send time, ms. */
  lateMs: number[];
  statuses: number[];
  verdicts: string[];
  /** Largest event-loop delay seen while the work ran, ms. */
  loopDelayMaxMs: number;
}

/**
 * Send `body` to POST /v1/decisions every `periodMs` until `work` settles (and at least `minTaps`
 * times), then wait for the answers.
 */
export async function tapsDuring<T>(url: string, body: unknown, periodMs: number, work: () => Promise<T>, minTaps = 5): Promise<TapRun<T>> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const payload = JSON.stringify(body);
  const taps: Array<Promise<{ late: number; status: number; verdict: string }>> = [];
  const tap = (intended: number): Promise<{ late: number; status: number; verdict: string }> =>
    fetch(`${url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload }).then(async (res) => {
      const json = (await res.json()) as { verdict?: string };
      return { late: performance.now() - intended, status: res.status, verdict: json.verdict ?? '' };
    });
  let done = false;
  const start = performance.now();
  let i = 0;
  const ticking = new Promise<void>((resolve) => {
    const next = (): void => {
      if (done && i >= minTaps) {
        resolve();
        return;
      }
      const intended = start + i * periodMs;
      i++;
      taps.push(tap(intended));
      // Aim at the next intended time; a late timer is exactly what the measurement shows.
      setTimeout(next, Math.max(0, start + i * periodMs - performance.now()));
    };
    next();
  });
  let result: T;
  try {
    result = await work();
  } finally {
    done = true;
  }
  await ticking;
  const answers = await Promise.all(taps);
  histogram.disable();
  return {
    result,
    lateMs: answers.map((a) => a.late),
    statuses: answers.map((a) => a.status),
    verdicts: answers.map((a) => a.verdict),
    loopDelayMaxMs: histogram.max / 1e6,
  };
}
