/**
 * The vehicle role, whole: hes-gate started with `city.role: "vehicle"` (no Redis, no city key)
 * against a real hub server, configured as an operator would. Its HTTP decision API answers card
 * taps from the fetched list with source `list`, its metrics show the list, its journal goes to
 * the hub without a card id, and a binding written on board is refused.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestGate } from '../../http/helpers.js';
import type { HesGate } from '../../../src/hes-gate.js';
import { hasPromtool, promtool } from '../../ops/promtool.js';
import { hasMosquitto, Mosquitto } from '../mosquitto.js';
import { ListHub, TOKEN } from './list-hub.js';

const CARD = '04A1B2C3D4';
const ADMIN = 'admin-token-abcdef0123456789';
const MQTT_PASSWORD = 'bus-34-notice-pass-51c2';

describe('hes-gate as a vehicle', () => {
  let hub: ListHub;
  let gate: HesGate | undefined;

  beforeEach(async () => {
    hub = new ListHub();
    await hub.start();
  });

  afterEach(async () => {
    await gate?.close();
    gate = undefined;
    await hub.stop();
  });

  async function vehicle(more: { mqtt?: Record<string, unknown>; env?: Record<string, string> } = {}): Promise<Awaited<ReturnType<typeof startTestGate>>> {
    const secrets = mkdtempSync(join(tmpdir(), 'hg-vehicle-secrets-'));
    writeFileSync(join(secrets, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(secrets, 'list.key'), `${hub.keyText}\n`, { mode: 0o600 });
    const started = await startTestGate(
      {
        city: { role: 'vehicle' },
        vehicle: { headUrl: hub.headUrl, publicKey: hub.signer.publicKey, listKeyFile: join(secrets, 'list.key'), pollMs: 3_600_000, uploadEveryMs: 3_600_000, ...(more.mqtt === undefined ? {} : { mqtt: more.mqtt }) },
        journal: { flushIntervalMs: 10 },
      },
      { HES_GATE_VEHICLE_TOKEN_FILE: join(secrets, 'token'), HES_GATE_ADMIN_TOKEN: ADMIN, ...more.env },
    );
    gate = started.gate;
    return started;
  }

  it('decides card taps from the list it fetched, shows the list in its metrics, and uploads its journal', async () => {
    const now = Date.now();
    const s1 = hub.snapshot(1, now - 60_000, {
      [CARD]: { cls: 'pass', validUntil: null, profile: 'standard' },
      '04A1B2C3D5': { cls: 'risky', validUntil: null, profile: 'standard' },
    });
    hub.publish(s1, []);
    const { post, url, logs } = await vehicle();
    await gate!.vehicle!.poll();
    expect(gate!.vehicle!.report().list.version).toBe(1);

    expect((await post({ gate: 'bus-1', card: CARD.toLowerCase() })).body).toMatchObject({ verdict: 'pass', reason: 'RISKLESS', source: 'list' });
    expect((await post({ gate: 'bus-1', card: '04A1B2C3D5' })).body).toMatchObject({ verdict: 'deny', reason: 'RISKY', source: 'list' });
    expect((await post({ gate: 'bus-1', card: '04A1B2C3D6' })).body).toMatchObject({ verdict: 'deny', reason: 'CARD_UNBOUND', source: 'none' });

    const ready = (await (await fetch(`${url}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    expect(ready.checks['vehicle list']).toMatchObject({ ok: true, detail: expect.stringMatching(/^version 1, 2 cards, \d+ s old \(link up\)$/) });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^hes_gate_vehicle_list_version 1$/m);
    expect(metrics).toMatch(/^hes_gate_vehicle_list_cards 2$/m);
    expect(metrics).toMatch(/^hes_gate_vehicle_list_refused_total\{reason="signature"\} 0$/m);
    expect(metrics).toMatch(/^hes_gate_city_info\{role="vehicle"\} 1$/m);
    expect(metrics).toMatch(/^hes_gate_vehicle_list_age_seconds \d/m);
    if (hasPromtool) {
      const checked = promtool(['check', 'metrics'], metrics);
      expect(checked.output.trim()).toBe('');
      expect(checked.status).toBe(0);
    }

    await gate!.journal!.drain();
    await gate!.vehicle!.upload();
    const sent = JSON.stringify(hub.uploads);
    expect(hub.uploads).toHaveLength(1);
    expect(hub.uploads[0]).toMatchObject({ listVersion: 1, listIssuedAt: now - 60_000, counters: { refused_signature: 0, journal_dropped: 0 } });
    // The names the hub's schema accepts (src/vehicles/hub/upload.ts: lower case, digits, `_`).
    expect(Object.keys((hub.uploads[0] as { counters: object }).counters).every((k) => /^[a-z][a-z0-9_]{0,63}$/.test(k))).toBe(true);
    expect((hub.uploads[0] as { entries: unknown[] }).entries).toHaveLength(3);
    expect(sent).not.toContain(CARD);
    expect(sent).not.toContain(CARD.toLowerCase());
    expect(logs.raw.join('\n')).not.toContain(CARD);
    expect(logs.raw.join('\n')).not.toContain(TOKEN);

    const bind = await fetch(`${url}/v1/cards/${CARD}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ hesCode: 'A1B2345678' }) });
    expect(bind.status).toBe(409);
    expect(await bind.json()).toMatchObject({ error: { code: 'HG_CITY_REPLICA' } });
  });

  it('with no list yet, the outage policy decides card taps', async () => {
    hub.headStatus = 503;
    const { post } = await vehicle();
    await gate!.vehicle!.poll();
    expect((await post({ gate: 'bus-1', card: CARD })).body).toMatchObject({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none' });
    const ready = (await (await fetch(`${gate!.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    expect(ready.checks['vehicle list']).toEqual({ ok: false, detail: 'no list yet: the outage policy decides card taps (link refused)' });
  });

  it.skipIf(!hasMosquitto)('with vehicle.mqtt.url, a newer version\'s notice brings the list long before the hourly poll; the password stays out of logs', async () => {
    const broker = await Mosquitto.start({ users: { 'bus-34': MQTT_PASSWORD, hub: 'hub-pass' } });
    try {
      const now = Date.now();
      const s1 = hub.snapshot(1, now - 60_000, { [CARD]: { cls: 'pass', validUntil: null, profile: 'standard' } });
      hub.publish(s1, []);
      const secrets = mkdtempSync(join(tmpdir(), 'hg-vehicle-mqtt-'));
      writeFileSync(join(secrets, 'mqtt-password'), `${MQTT_PASSWORD}\n`, { mode: 0o600 });
      const { url, logs } = await vehicle({ mqtt: { url: broker.url, user: 'bus-34', minPollGapMs: 1000 }, env: { HES_GATE_VEHICLE_MQTT_PASSWORD_FILE: join(secrets, 'mqtt-password') } });
      await gate!.vehicle!.poll();
      expect(gate!.vehicle!.report().list.version).toBe(1);
      await vi.waitFor(() => expect(gate!.vehicle!.report().notices?.connected).toBe(true), { timeout: 10_000, interval: 20 });

      const d2 = hub.delta(1, 2, now, { [CARD]: { cls: 'risky', validUntil: null, profile: 'standard' } });
      hub.publish(s1, [d2]);
      const pub = await connectAsync(broker.url, { reconnectPeriod: 0, username: 'hub', password: 'hub-pass' });
      await pub.publishAsync('hes-gate/vehicle-list', JSON.stringify({ version: 2, issuedAt: now }), { qos: 1, retain: true });
      await pub.endAsync();
      await vi.waitFor(() => expect(gate!.vehicle!.report().list.version).toBe(2), { timeout: 10_000, interval: 20 });
      expect(gate!.vehicle!.report().notices).toMatchObject({ taken: { poll: 1, malformed: 0 }, polls: 1 });

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^hes_gate_vehicle_notices_total\{outcome="poll"\} 1$/m);
      expect(metrics).toMatch(/^hes_gate_vehicle_notices_total\{outcome="malformed"\} 0$/m);
      expect(logs.raw.join('\n')).not.toContain(MQTT_PASSWORD);
      expect(logs.raw.join('\n')).toContain('vehicle.notice.broker');
    } finally {
      await gate?.close();
      gate = undefined;
      await broker.stop();
    }
  });
});
