/**
 * The hub's push notice (docs/vehicles.md, "push notice"): after each version the publisher
 * publishes, a retained `{"version":V,"issuedAt":ms}` with QoS 1 on the configured topic, so a
 * vehicle subscribed to it polls the head at once instead of at its next poll.
 *
 *   publisher ─ published(version) ─> notify ─ connected ─> PUBLISH (retained, QoS 1) ─ PUBACK ─> sent
 *                                            └ not connected ─> deferred: the newest notice is sent on reconnect
 *
 * Best effort: notify never waits and never throws, so a broker that is down holds no version
 * back; the vehicles' regular poll carries the list meanwhile. Retained, the newest notice also
 * reaches a vehicle that subscribes later (after a tunnel, at start).
 */
import type { Logger } from 'pino';
import { encodeNotice, type ListNotice } from '../list/notice.js';
import { closeMqtt, openMqtt, type MqttClient, type NoticeBroker } from '../mqtt-link.js';
import type { NoticeOutcome, NoticeReport } from './types.js';

export interface NoticesOptions extends NoticeBroker {
  logger: Logger;
}

export class VehicleNotices {
  readonly #client: MqttClient;
  readonly #o: NoticesOptions;
  readonly #outcomes: Record<NoticeOutcome, number> = { sent: 0, failed: 0, deferred: 0 };
  #latest: ListNotice | null = null;
  /** The newest version the broker acknowledged. */
  #sent: number | null = null;
  #lastOutcome: NoticeOutcome | null = null;

  private constructor(client: MqttClient, o: NoticesOptions) {
    this.#client = client;
    this.#o = o;
    // The newest notice the broker missed while it was away is sent as soon as it is back.
    client.on('connect', () => {
      if (this.#latest !== null && this.#latest.version !== this.#sent) this.#send(this.#latest);
    });
  }

  /** Connects in the background: resolves at once, whether the broker answers or not. */
  static async open(o: NoticesOptions): Promise<VehicleNotices> {
    const log = o.logger;
    const client = await openMqtt(o, (up, detail) => {
      if (up) log.info({ event: 'vehicles.notice.broker', state: 'up' }, 'vehicles: the notice broker is connected');
      else log.warn({ event: 'vehicles.notice.broker', state: 'down', detail }, `vehicles: the notice broker is not connected (${detail}); versions are published without a notice, vehicles poll`);
    });
    return new VehicleNotices(client, o);
  }

  /** A version was published: tell the vehicles. Never waits, never throws. */
  notify(n: ListNotice): void {
    this.#latest = n;
    if (!this.#client.connected) {
      this.#count('deferred', n.version);
      return;
    }
    this.#send(n);
  }

  #send(n: ListNotice): void {
    try {
      this.#client.publish(this.#o.topic, encodeNotice(n), { qos: 1, retain: true }, (err) => {
        if (err === undefined || err === null) {
          this.#sent = Math.max(this.#sent ?? 0, n.version);
          this.#count('sent', n.version);
        } else this.#count('failed', n.version, err);
      });
    } catch (err) {
      this.#count('failed', n.version, err);
    }
  }

  /** Counted each time; a change of outcome is logged (a failing broker is said once, not at every version). */
  #count(outcome: NoticeOutcome, version: number, err?: unknown): void {
    this.#outcomes[outcome]++;
    if (outcome === this.#lastOutcome) return;
    this.#lastOutcome = outcome;
    if (outcome === 'failed') this.#o.logger.warn({ event: 'vehicles.notice', outcome, version, error: (err as { code?: string } | undefined)?.code ?? (err as Error | undefined)?.message ?? 'error' }, 'vehicles: the notice of a new version was not accepted by the broker');
    else this.#o.logger.debug({ event: 'vehicles.notice', outcome, version }, `vehicles: notice of version ${version} ${outcome}`);
  }

  report(): NoticeReport {
    return { connected: this.#client.connected, outcomes: { ...this.#outcomes } };
  }

  async close(): Promise<void> {
    await closeMqtt(this.#client);
  }
}
