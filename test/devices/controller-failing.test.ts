/**
 * A gate controller that stops answering is not healthy: a Modbus relay board that never
 * answers, and a text-protocol controller whose port is gone, are reported as failing — in
 * their state (/v1/devices), in /readyz and in a metric — until a command succeeds again.
 * The whole service, with the boards played on socat pseudo-terminals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DeviceEvent, DeviceStatus, TapEvent } from '../../src/devices/station.js';
import { startTestGate } from '../http/helpers.js';
import { describeSerial, once, Peer, startPtyPair, type PtyPair } from './pty.js';

const TOKEN = 'admin-token-controller';

describeSerial('a gate controller that stops answering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hes-gate-controller-'));
  const pairs: PtyPair[] = [];
  const peers: Peer[] = [];
  let reader: Peer;
  let board: Peer;
  let t: Awaited<ReturnType<typeof startTestGate>>;

  async function pair(name: string): Promise<PtyPair> {
    const p = await startPtyPair(join(dir, name), join(dir, `${name}-peer`));
    pairs.push(p);
    return p;
  }
  async function peer(name: string): Promise<Peer> {
    const p = await Peer.open(join(dir, `${name}-peer`));
    peers.push(p);
    return p;
  }

  beforeAll(async () => {
    await pair('reader');
    await pair('board');
    await pair('text-reader');
    await pair('text-gate');
    t = await startTestGate(
      {
        refresher: { enabled: false },
        gates: {
          list: [
            { id: 'M1', readers: [{ id: 'M1/reader', path: join(dir, 'reader'), profile: 'hex-uid' }], controller: { path: join(dir, 'board'), profile: 'modbus-relay' } },
            { id: 'T1', readers: [{ id: 'T1/reader', path: join(dir, 'text-reader'), profile: 'hex-uid' }], controller: { path: join(dir, 'text-gate'), profile: 'text-gate' } },
          ],
        },
      },
      { HES_GATE_ADMIN_TOKEN: TOKEN },
    );
    reader = await peer('reader');
    board = await peer('board');
    await peer('text-gate');
  });

  afterAll(async () => {
    await t?.gate.close();
    for (const p of peers) await p.close();
    for (const p of pairs) await p.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function device(id: string): Promise<DeviceStatus> {
    const res = await fetch(`${t.url}/v1/devices`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const found = ((await res.json()) as { devices: DeviceStatus[] }).devices.find((d) => d.id === id);
    if (found === undefined) throw new Error(`no device ${id}`);
    return found;
  }
  async function readiness(id: string): Promise<{ ok: boolean; detail: string }> {
    const ready = (await (await fetch(`${t.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    return ready.checks[`device ${id}`]!;
  }
  async function failingMetric(id: string): Promise<number> {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const m = new RegExp(`^hes_gate_device_command_failing\\{device="${id.replace('/', '\\/')}"\\} (\\d)$`, 'm').exec(text);
    return m === null ? Number.NaN : Number(m[1]);
  }
  async function tap(on: Peer, gate: string, card: string): Promise<TapEvent> {
    const event = once<TapEvent>(t.gate.station!, 'tap', { match: (e) => e.gate === gate });
    await on.write(`${card}\r\n`);
    return event;
  }

  it('a Modbus relay board that stops answering is failing until a command succeeds again', async () => {
    // The board answers (echoes each FC05 request, as relay boards do).
    board.onData = (chunk) => void board.port.write(chunk);
    expect(await tap(reader, 'M1', '04A1B2C3')).toMatchObject({ command: 'sent' });
    expect(await device('M1/controller')).toMatchObject({ state: 'open', commandFailures: 0 });
    expect(await failingMetric('M1/controller')).toBe(0);

    // The board goes silent: its port stays open, its commands time out.
    board.onData = undefined;
    const failing = once<DeviceEvent>(t.gate.station!, 'device', { match: (e) => e.id === 'M1/controller' && e.state === 'failing' });
    expect(await tap(reader, 'M1', '04A1B2C4')).toMatchObject({ command: 'failed' });
    await failing;
    expect(await device('M1/controller')).toMatchObject({ state: 'failing', commandFailures: 1, lastCommandError: expect.stringMatching(/timed out/i) });
    expect(await readiness('M1/controller')).toMatchObject({ ok: false, detail: expect.stringMatching(/failing/) });
    expect(await failingMetric('M1/controller')).toBe(1);

    // It answers again: the next command that succeeds clears it.
    board.onData = (chunk) => void board.port.write(chunk);
    const recovered = once<DeviceEvent>(t.gate.station!, 'device', { match: (e) => e.id === 'M1/controller' && e.state === 'open' });
    expect(await tap(reader, 'M1', '04A1B2C5')).toMatchObject({ command: 'sent' });
    await recovered;
    expect(await device('M1/controller')).toMatchObject({ state: 'open', commandFailures: 0 });
    expect(await readiness('M1/controller')).toMatchObject({ ok: true });
    expect(await failingMetric('M1/controller')).toBe(0);
  });

  it('a text-protocol controller whose port is gone is failing until a command succeeds on the port again', async () => {
    const textReader = await peer('text-reader');
    expect(await tap(textReader, 'T1', '04A1B2C6')).toMatchObject({ command: 'sent' });
    expect(await failingMetric('T1/controller')).toBe(0);

    // The port goes away (the adapter unplugged).
    const gone = once<DeviceEvent>(t.gate.station!, 'device', { match: (e) => e.id === 'T1/controller' && e.state === 'reconnecting' });
    const textGate = pairs.find((p) => p.a === join(dir, 'text-gate'))!;
    await textGate.kill();
    await gone;
    expect(await tap(textReader, 'T1', '04A1B2C7')).toMatchObject({ command: 'failed' });
    expect(await device('T1/controller')).toMatchObject({ commandFailures: 1 });
    expect(await readiness('T1/controller')).toMatchObject({ ok: false });
    expect(await failingMetric('T1/controller')).toBe(1);

    // The port is back, but nothing has shown the controller works yet: still failing.
    const back = once<DeviceEvent>(t.gate.station!, 'device', { match: (e) => e.id === 'T1/controller' && e.state === 'failing' });
    await pair('text-gate');
    await back;
    await peer('text-gate');
    expect(await device('T1/controller')).toMatchObject({ state: 'failing' });
    expect(await failingMetric('T1/controller')).toBe(1);

    expect(await tap(textReader, 'T1', '04A1B2C8')).toMatchObject({ command: 'sent' });
    expect(await device('T1/controller')).toMatchObject({ state: 'open', commandFailures: 0 });
    expect(await failingMetric('T1/controller')).toBe(0);
  });
});
