/**
 * The connection to an MQTT broker that carries the vehicle list's push notice, for both sides
 * (hub/notices.ts publishes, vehicle/notice-listener.ts subscribes). The `mqtt` package is loaded
 * here, on first use: a node with no broker configured never loads it.
 *
 * The client reconnects on its own (every `reconnectPeriodMs`); the broker's state is told on
 * change only (a bus in a tunnel would otherwise log every retry). The password is handed to the
 * client and nowhere else.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Secret } from '../config/sensitive-value.js';

export type { MqttClient } from 'mqtt';

/** Where the notice travels: the broker, the topic, who this node is there. */
export interface NoticeBroker {
  url: string;
  topic: string;
  user: string | null;
  password: Secret | null;
  /** The client id's stem; a random suffix keeps two processes from taking over each other's session. */
  clientIdPrefix: string;
  /** How often a lost broker is tried again, ms. @default 5000 */
  reconnectPeriodMs?: number;
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown };
  return typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : typeof e.name === 'string' ? e.name : 'error';
}

/** A client that connects in the background; `onState` hears each change: connected, or not (with the error code or `closed`). */
export async function openMqtt(o: NoticeBroker, onState: (up: boolean, detail: string) => void): Promise<MqttClient> {
  const { connect } = await import('mqtt');
  const client = connect(o.url, {
    clientId: `${o.clientIdPrefix.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}`,
    ...(o.user === null ? {} : { username: o.user }),
    ...(o.password === null ? {} : { password: o.password.reveal() }),
    clean: true,
    reconnectPeriod: o.reconnectPeriodMs ?? 5000,
    connectTimeout: 10_000,
  });
  let up: boolean | null = null;
  const set = (next: boolean, detail: string): void => {
    if (next === up) return;
    up = next;
    onState(next, detail);
  };
  client.on('connect', () => set(true, ''));
  // An 'error' with no listener would throw: a refused connection or a bad password is a state, told once.
  client.on('error', (err) => set(false, codeOf(err)));
  client.on('close', () => set(false, 'closed'));
  return client;
}

/** Close the connection without waiting on a broker that is gone. */
export async function closeMqtt(client: MqttClient): Promise<void> {
  await client.endAsync(true);
}
