/**
 * An open-loop load generator: requests are scheduled at fixed intervals from a monotonic start
 * and each is timed from its *intended* send time, so a slow server cannot slow the schedule
 * down and hide its own stalls (coordinated omission). Latencies go into an HDR histogram (µs).
 *
 *   t0 ── i/rate ──> fire(i) ──> undici Pool (queue if every connection is busy) ──> reply
 *                     └ latency = reply − (t0 + i/rate); lag = actual send − intended
 *
 * The scheduler polls with setImmediate when the next send is near and sleeps otherwise, so a
 * send is late only when the generator's own event loop was busy; those are counted.
 */
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';

export interface OpenLoopOptions {
  /** Origin of the server, e.g. http://127.0.0.1:8080. */
  url: string;
  path: string;
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Keep-alive connections of the client pool. */
  connections: number;
  /** A pool to reuse across calls (slices), so a slice does not start by connecting; closed by the caller. */
  pool?: Pool;
  /** The JSON body of request i. */
  body: (i: number) => string;
  /** A send later than this after its intended time counts as late. @default 1 */
  lateThresholdMs?: number;
  /** Sees every answer: status code, body text, latency from the intended send time (ms). */
  onAnswer?: (status: number, text: string, latencyMs: number) => void;
}

export interface OpenLoopResult {
  sent: number;
  answered: number;
  errors: number;
  non2xx: number;
  /** Latency from intended send time, µs. */
  histogram: hdr.Histogram;
  /** Sends the generator itself made later than the threshold, and the worst lag (ms). */
  lateSends: number;
  maxSendLagMs: number;
  elapsedMs: number;
}

export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

/** p-th percentile of a µs histogram, in ms. */
export function pMs(h: hdr.Histogram, p: number): number {
  return h.getValueAtPercentile(p) / 1000;
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const pool = o.pool ?? new Pool(o.url, { connections: o.connections, pipelining: 1 });
  const histogram = newHistogram();
  const total = Math.max(1, Math.round((o.rate * o.durationMs) / 1000));
  const interval = 1000 / o.rate;
  const lateMs = o.lateThresholdMs ?? 1;
  const headers = { 'content-type': 'application/json' };
  let answered = 0;
  let errors = 0;
  let non2xx = 0;
  let lateSends = 0;
  let maxSendLagMs = 0;
  let finished = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));

  const fire = (i: number, intended: number, now: number): void => {
    const lag = now - intended;
    if (lag > lateMs) lateSends++;
    if (lag > maxSendLagMs) maxSendLagMs = lag;
    pool
      .request({ path: o.path, method: 'POST', headers, body: o.body(i) })
      .then(async (res) => {
        const text = await res.body.text();
        const end = performance.now();
        const latencyMs = end - intended;
        histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
        answered++;
        if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
        o.onAnswer?.(res.statusCode, text, latencyMs);
      })
      .catch(() => {
        errors++;
      })
      .finally(() => {
        if (++finished === total) resolveDone();
      });
  };

  const t0 = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total && t0 + next * interval <= now) {
        fire(next, t0 + next * interval, now);
        next++;
      }
      if (next >= total) {
        resolve();
        return;
      }
      const wait = t0 + next * interval - performance.now();
      if (wait > 3) setTimeout(tick, wait - 2);
      else setImmediate(tick);
    };
    tick();
  });
  await done;
  const elapsedMs = performance.now() - t0;
  if (o.pool === undefined) await pool.close();
  return { sent: total, answered, errors, non2xx, histogram, lateSends, maxSendLagMs, elapsedMs };
}
