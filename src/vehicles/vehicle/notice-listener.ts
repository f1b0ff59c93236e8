/**
 * The vehicle's side of the push notice (docs/vehicles.md, "push notice"): a notice of a version
 * newer than the one held makes the fetcher poll the head now, on the same verified path as every
 * poll (signature, key id, replay). The notice is trusted for nothing else: a forged one costs one
 * head request, never a list.
 *
 *   message ─> parseNotice ─ malformed ─> counted, dropped
 *                           ├ version ≤ held ─> stale, dropped
 *                           └ newer ─> a poll now, or, within minPollGapMs of the last one, one
 *                                      poll at the end of the gap for every notice meanwhile (coalesced)
 *
 * The regular poll (vehicle.pollMs) runs on regardless: a lost notice, a broker that is down, a
 * notice not sent cost only time. The broker keeps the newest notice (retained): a vehicle that
 * subscribes again after a tunnel gets it at once.
 */
import type { Logger } from 'pino';
import { systemTimers } from '../../system-timers.js';
import type { Timers } from '../../types.js';
import { parseNotice } from '../list/notice.js';
import { closeMqtt, openMqtt, type MqttClient, type NoticeBroker } from '../mqtt-link.js';
import type { NoticeListenerReport, NoticeTaken } from './on-board-types.js';

export interface NoticeGateOptions {
  /** The version held, or null with no list. */
  held: () => number | null;
  /** Poll the head (a fresh poll: fetcher.pollFresh). */
  poll: () => Promise<void>;
  minPollGapMs: number;
  /** A monotonic clock, ms. @default performance.now */
  now?: () => number;
  timers?: Timers;
  /** A notice was taken (tests wait on it). */
  onTaken?: (taken: NoticeTaken) => void;
}

/** From notices to polls: what to drop, when to poll. No I/O of its own. */
export class NoticeGate {
  readonly #o: NoticeGateOptions;
  readonly #timers: Timers;
  readonly #now: () => number;
  readonly #taken: Record<NoticeTaken, number> = { poll: 0, coalesced: 0, stale: 0, malformed: 0 };
  #polls = 0;
  #lastPollAt: number | null = null;
  /** The newest version a poll at the end of the gap waits for; null with none waiting. */
  #waiting: number | null = null;
  #timer: unknown;
  #stopped = false;

  constructor(o: NoticeGateOptions) {
    this.#o = o;
    this.#timers = o.timers ?? systemTimers;
    this.#now = o.now ?? (() => performance.now());
  }

  /** One message as the broker delivered it. */
  take(payload: Uint8Array | string): NoticeTaken {
    const taken = this.#take(payload);
    this.#taken[taken]++;
    this.#o.onTaken?.(taken);
    return taken;
  }

  #take(payload: Uint8Array | string): NoticeTaken {
    const notice = parseNotice(payload);
    if (notice === null) return 'malformed';
    const held = this.#o.held();
    if (held !== null && notice.version <= held) return 'stale';
    if (this.#stopped) return 'coalesced';
    if (this.#waiting !== null) {
      this.#waiting = Math.max(this.#waiting, notice.version);
      return 'coalesced';
    }
    const wait = this.#lastPollAt === null ? 0 : this.#lastPollAt + this.#o.minPollGapMs - this.#now();
    if (wait <= 0) {
      this.#pollNow();
      return 'poll';
    }
    this.#waiting = notice.version;
    this.#timer = this.#timers.setTimeout(() => {
      const version = this.#waiting;
      this.#waiting = null;
      const held = this.#o.held();
      // The regular poll may have fetched it meanwhile.
      if (!this.#stopped && version !== null && (held === null || version > held)) this.#pollNow();
    }, wait);
    return 'coalesced';
  }

  #pollNow(): void {
    this.#lastPollAt = this.#now();
    this.#polls++;
    void this.#o.poll();
  }

  report(): NoticeListenerReport {
    return { connected: false, taken: { ...this.#taken }, polls: this.#polls };
  }

  stop(): void {
    this.#stopped = true;
    this.#timers.clearTimeout(this.#timer);
  }
}

export interface NoticeListenerOptions extends NoticeGateOptions, NoticeBroker {
  logger: Logger;
}

export class NoticeListener {
  readonly gate: NoticeGate;
  readonly #client: MqttClient;

  private constructor(client: MqttClient, gate: NoticeGate) {
    this.#client = client;
    this.gate = gate;
  }

  /** Subscribes in the background (on every connect): resolves at once, whether the broker answers or not. */
  static async open(o: NoticeListenerOptions): Promise<NoticeListener> {
    const log = o.logger;
    const gate = new NoticeGate(o);
    const client = await openMqtt(o, (up, detail) => {
      if (up) log.info({ event: 'vehicle.notice.broker', state: 'up' }, 'list notices: the broker is connected');
      else log.warn({ event: 'vehicle.notice.broker', state: 'down', detail }, `list notices: the broker is not connected (${detail}); the regular poll carries the list`);
    });
    // A clean session each time: subscribe on every connect (the retained notice comes with it).
    client.on('connect', () => {
      client.subscribe(o.topic, { qos: 1 }, (err) => {
        if (err !== null && err !== undefined) log.warn({ event: 'vehicle.notice.subscribe', error: (err as { code?: string }).code ?? err.message }, 'list notices: the broker refused the subscription; the regular poll carries the list');
      });
    });
    client.on('message', (topic, payload) => {
      if (topic === o.topic) gate.take(payload);
    });
    return new NoticeListener(client, gate);
  }

  report(): NoticeListenerReport {
    return { ...this.gate.report(), connected: this.#client.connected };
  }

  async close(): Promise<void> {
    this.gate.stop();
    await closeMqtt(this.#client);
  }
}
