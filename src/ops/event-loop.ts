/**
 * How late the event loop runs — the one figure that shows a stall of the thread that answers
 * taps, when every per-request timing (`elapsedMs`) looks fine because the stalled requests were
 * not yet being timed.
 *
 *   monitorEventLoopDelay (libuv timer, native histogram) ──every windowMs──> last window's
 *        p50 / p99 / max ─> metrics, /readyz
 *   probe timer (every probeMs) ─> lagMs(): how late the loop runs *now* ─> admission control
 *                               ├─> utilization(): the share of recent time the loop was busy
 *                               │   (perf_hooks eventLoopUtilization, smoothed) ─> admission control
 *                               └─> timerLagMs(): how late timers have been firing ─> decisions'
 *                                   ministry wait (its deadline timer will be about that late)
 *
 * The native histogram only learns of a stall once it is over; the probe also sees one in
 * progress: when a request is handled after the probe was due, the loop is at least that late.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** Cumulative ms the loop was idle and active since start (perf_hooks `eventLoopUtilization()`). */
export type LoopTimes = () => { idle: number; active: number };

/**
 * Time constant of the smoothed utilization, ms: long enough that one busy turn (a collection, a
 * burst of taps) does not read as saturation, short enough that a flood is seen within a few
 * probes, before the requests queued behind it are late.
 */
const UTILIZATION_SMOOTHING_MS = 30;

export interface EventLoopWindow {
  /** Milliseconds, over the last completed window. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Largest delay since start, ms. */
  worstMs: number;
  /** Length of the window these figures cover, ms. */
  windowMs: number;
}

export interface EventLoopMonitorOptions {
  /** Sampling resolution of the native histogram, ms. @default 10 */
  resolutionMs?: number;
  /** Length of a reporting window, ms. @default 10000 */
  windowMs?: number;
  /** Interval of the lag probe, ms. @default 10 */
  probeMs?: number;
  /** @default performance.now */
  now?: () => number;
  /** @default performance.eventLoopUtilization */
  loopTimes?: LoopTimes;
}

export class EventLoopMonitor {
  private readonly histogram: ReturnType<typeof monitorEventLoopDelay>;
  private readonly now: () => number;
  private readonly resolutionMs: number;
  private readonly probeMs: number;
  private readonly windowMs: number;
  private last: EventLoopWindow | undefined;
  private worstMs = 0;
  private windowTimer: ReturnType<typeof setInterval> | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private probeDue = 0;
  private probeLag = 0;
  private previousProbeLag = 0;
  /** Largest probe lateness in the current window: the native histogram skips the first interval after a reset. */
  private probeMax = 0;
  private readonly loopTimes: LoopTimes;
  private lastTimes: { idle: number; active: number } = { idle: 0, active: 0 };
  private busy = 0;

  constructor(options: EventLoopMonitorOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.resolutionMs = options.resolutionMs ?? 10;
    this.probeMs = options.probeMs ?? 10;
    this.windowMs = options.windowMs ?? 10_000;
    this.histogram = monitorEventLoopDelay({ resolution: this.resolutionMs });
    this.loopTimes = options.loopTimes ?? (() => performance.eventLoopUtilization());
  }

  start(): void {
    if (this.windowTimer !== undefined) return;
    this.histogram.enable();
    this.windowTimer = setInterval(() => this.roll(), this.windowMs);
    this.windowTimer.unref();
    this.lastTimes = this.loopTimes();
    this.scheduleProbe();
  }

  stop(): void {
    this.histogram.disable();
    if (this.windowTimer !== undefined) clearInterval(this.windowTimer);
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    this.windowTimer = undefined;
    this.probeTimer = undefined;
  }

  /**
   * How late the loop runs now, ms: an overdue probe's lateness (a stall in progress), else the
   * lesser of the last two probes' — lateness that lasted, not one descheduling blip, whose
   * backlog of cache hits is still answered in time. Cheap: read per request.
   */
  lagMs(): number {
    if (this.probeTimer === undefined) return 0;
    const overdue = this.now() - this.probeDue;
    const lasting = this.timerLagMs();
    return overdue > lasting ? overdue : lasting;
  }

  /**
   * How late the loop's timers have been firing, ms: the lesser of the last two probes' lateness
   * — lateness that lasted (a saturated loop), not one descheduling blip, and not a stall in
   * progress (a timer set now starts counting now; the time the current turn has already run is
   * in the caller's elapsed time). Cheap: read per ministry wait.
   */
  timerLagMs(): number {
    if (this.probeTimer === undefined) return 0;
    return this.probeLag < this.previousProbeLag ? this.probeLag : this.previousProbeLag;
  }

  /**
   * The share of recent time the loop was busy, 0–1 (its utilization over the last probes,
   * smoothed over about 30 ms). A loop can keep every timer on time and still be saturated:
   * then each turn picks up a batch of requests, and a request that arrives just after one is
   * read only when the next turn begins, so requests wait unread in their sockets for longer
   * than the probe's lag shows (queueing: the wait grows as utilization nears 1). Cheap: a
   * stored number, read per request.
   */
  utilization(): number {
    return this.probeTimer === undefined ? 0 : this.busy;
  }

  /**
   * The last completed window's percentiles (the current window's until one completes); the max
   * covers the current window too, so a stall shows at once and for at least one whole window.
   */
  window(): EventLoopWindow {
    const current = this.current();
    if (this.last === undefined) return current;
    return { ...this.last, maxMs: Math.max(this.last.maxMs, current.maxMs), worstMs: current.worstMs };
  }

  private current(): EventLoopWindow {
    const h = this.histogram;
    // Each native sample is the time between two timer runs: the resolution itself plus the delay.
    const ms = (ns: number): number => (h.count === 0 ? 0 : Math.max(0, ns / 1e6 - this.resolutionMs));
    const maxMs = Math.max(ms(h.max), this.probeMax);
    return { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs, worstMs: Math.max(this.worstMs, maxMs), windowMs: this.windowMs };
  }

  private roll(): void {
    this.last = this.current();
    this.worstMs = this.last.worstMs;
    this.histogram.reset();
    this.probeMax = 0;
  }

  private scheduleProbe(): void {
    this.probeDue = this.now() + this.probeMs;
    this.probeTimer = setTimeout(() => {
      const lag = this.now() - this.probeDue;
      this.previousProbeLag = this.probeLag;
      this.probeLag = lag > 0 ? lag : 0;
      if (this.probeLag > this.probeMax) this.probeMax = this.probeLag;
      this.sampleUtilization();
      this.scheduleProbe();
    }, this.probeMs);
    this.probeTimer.unref();
  }

  private sampleUtilization(): void {
    const t = this.loopTimes();
    const active = t.active - this.lastTimes.active;
    const span = active + (t.idle - this.lastTimes.idle);
    this.lastTimes = t;
    if (span <= 0) return;
    // An exponential average weighted by time, so a long turn counts for as long as it lasted.
    const weight = 1 - Math.exp(-span / UTILIZATION_SMOOTHING_MS);
    this.busy += weight * (active / span - this.busy);
  }
}
