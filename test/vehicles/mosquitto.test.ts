/**
 * The mosquitto helper itself: a broker that answers on its port, keeps a retained message for a
 * later subscriber, and, with users, refuses a wrong password and takes the right one.
 */
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { hasMosquitto, Mosquitto } from './mosquitto.js';

const brokers: Mosquitto[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.stop();
});

describe.skipIf(!hasMosquitto)('the mosquitto test broker', () => {
  it('keeps a retained message for a later subscriber', async () => {
    const b = await Mosquitto.start();
    brokers.push(b);
    const pub = await connectAsync(b.url, { reconnectPeriod: 0 });
    await pub.publishAsync('t/1', 'hello', { qos: 1, retain: true });
    await pub.endAsync();
    const sub = await connectAsync(b.url, { reconnectPeriod: 0 });
    const got = new Promise<string>((resolve) => sub.on('message', (_t, p) => resolve(p.toString())));
    await sub.subscribeAsync('t/1', { qos: 1 });
    expect(await got).toBe('hello');
    await sub.endAsync();
  });

  it('with users: refuses a wrong password and anonymous clients, takes the right password', async () => {
    const b = await Mosquitto.start({ users: { hub: 's3cret-pass' } });
    brokers.push(b);
    await expect(connectAsync(b.url, { reconnectPeriod: 0, username: 'hub', password: 'wrong' })).rejects.toThrow();
    await expect(connectAsync(b.url, { reconnectPeriod: 0 })).rejects.toThrow();
    const ok = await connectAsync(b.url, { reconnectPeriod: 0, username: 'hub', password: 's3cret-pass' });
    expect(ok.connected).toBe(true);
    await ok.endAsync();
  });
});
