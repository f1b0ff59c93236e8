/**
 * The station on real pseudo-terminals: socat pairs stand in for readers and gate controllers.
 * Each test plays the devices on the peer ends and waits on the station's events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseStationGates } from '../../src/devices/config.js';
import { describeDevices } from '../../src/devices/describe.js';
import { loadProfiles } from '../../src/config/device-profiles.js';
import { createStation, type DeviceEvent, type FeedbackEvent, type FrameDroppedEvent, type Station, type TapEvent } from '../../src/devices/station.js';
import { encodeTap } from '../../src/devices/tap-simulator.js';
import type { Credential, Decision } from '../../src/types.js';
import { describeSerial, once, Peer, startPtyPair, type PtyPair } from './pty.js';

const profiles = loadProfiles('devices');
const PASS: Decision = { verdict: 'pass', reason: 'RISKLESS', source: 'cache' };
const DENY: Decision = { verdict: 'deny', reason: 'RISKY', source: 'cache' };

let dir: string;
let pairs: PtyPair[];
let peers: Peer[];
let station: Station | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hg-station-'));
  pairs = [];
  peers = [];
  station = undefined;
});

afterEach(async () => {
  await station?.stop();
  await Promise.all(peers.map((p) => p.close()));
  await Promise.all(pairs.map((p) => p.kill()));
  rmSync(dir, { recursive: true, force: true });
});

/** A socat pair named `name`; returns the station's path and the open peer. */
async function device(name: string): Promise<{ path: string; peer: Peer; pair: PtyPair }> {
  const pair = await startPtyPair(join(dir, name), join(dir, `${name}-peer`));
  pairs.push(pair);
  const peer = await Peer.open(pair.b);
  peers.push(peer);
  return { path: pair.a, peer, pair };
}

function start(gates: unknown[], decide: (c: Credential) => Promise<Decision>, extra: { clock?: () => number } = {}): Promise<Station> {
  station = createStation({ gates: parseStationGates(gates, profiles), profiles, decide, backoff: { initialMs: 20, maxMs: 200 }, ...extra });
  return station.start().then(() => station!);
}

const taps = (s: Station) => once<TapEvent>(s, 'tap');

describeSerial('station on pseudo-terminals', () => {
  it('reads every shipped reader profile into a canonical credential', async () => {
    const cases: Array<[string, 'card' | 'qr', string]> = [
      ['honeywell-qr', 'qr', 'HC1:QRPAYLOAD-1'],
      ['silence-qr', 'qr', 'HC1:QRPAYLOAD-2'],
      ['rdm6300', 'card', '0A007186A6'],
      ['hex-uid', 'card', '04A1B2C3D4E5F6'],
      ['wiegand26-hex', 'card', '0012ABCD'],
      ['wiegand-decimal', 'card', '7186A61E'],
    ];
    const readers = await Promise.all(cases.map(([profile]) => device(profile)));
    const seen: Credential[] = [];
    const s = await start(
      cases.map(([profile], i) => ({ id: `G${i}`, group: 'north', reader: { path: readers[i]!.path, profile } })),
      async (c) => (seen.push(c), PASS),
    );
    for (const [i, [, kind, value]] of cases.entries()) {
      const bytes = encodeTap(profiles.readers.get(cases[i]![0])!, kind, value);
      const tap = taps(s);
      // Split the frame across two writes: the framer must reassemble it.
      await readers[i]!.peer.write(bytes.subarray(0, 3));
      await readers[i]!.peer.write(bytes.subarray(3));
      const event = await tap;
      expect(event).toMatchObject({ gate: `G${i}`, reader: `G${i}/reader`, kind, verdict: 'pass', command: 'none' });
      expect(JSON.stringify(event)).not.toContain(value);
      expect(seen.at(-1)).toMatchObject({ kind, value, gate: `G${i}`, reader: `G${i}/reader` });
    }
    expect(s.status().filter((d) => d.state === 'open')).toHaveLength(cases.length);
  });

  it('sends the text gate its open and deny lines byte for byte, and reads its feedback', async () => {
    const reader = await device('reader');
    const gate = await device('gate');
    let decision = PASS;
    const s = await start(
      [{ id: 'G1', group: 'north', reader: { path: reader.path, profile: 'hex-uid' }, controller: { path: gate.path, profile: 'text-gate', passage: 'B' } }],
      async () => decision,
    );
    let tap = taps(s);
    await reader.peer.write('04A1B2C3\r\n');
    expect((await gate.peer.take(8)).toString('latin1')).toBe('OPEN B\r\n');
    expect(await tap).toMatchObject({ verdict: 'pass', command: 'sent', masked: '…B2C3' });

    decision = DENY;
    tap = taps(s);
    await reader.peer.write('04A1B2C4\r\n');
    expect((await gate.peer.take(14)).toString('latin1')).toBe('DENY B RISKY\r\n');
    expect(await tap).toMatchObject({ verdict: 'deny', reason: 'RISKY', command: 'sent' });
    expect(gate.peer.pending()).toHaveLength(0);

    const feedback = once<FeedbackEvent>(s, 'feedback');
    // Lines are looked up by what the board sent: a prototype's name is not a feedback line.
    await gate.peer.write('NOISE\r\nconstructor\r\n__proto__\r\ntoString\r\nPASS B\r\n');
    expect(await feedback).toEqual({ controller: 'G1/controller', gates: ['G1'], event: 'passed' });
  });

  it('pulses a Modbus relay: FC05 on, echo, then off after pulseMs (frames byte for byte)', async () => {
    const reader = await device('reader');
    const board = await device('board');
    // The board echoes each request, as FC05 relay boards do.
    board.peer.onData = (chunk) => void board.peer.port.write(chunk);
    let decision = PASS;
    const s = await start(
      [{ id: 'G1', group: 'north', reader: { path: reader.path, profile: 'rdm6300' }, controller: { path: board.path, profile: 'modbus-relay' } }],
      async () => decision,
    );
    let tap = taps(s);
    await reader.peer.write(encodeTap(profiles.readers.get('rdm6300')!, 'card', '0A007186A6'));
    expect((await board.peer.take(8)).toString('hex')).toBe('01050000ff008c3a');
    expect(await tap).toMatchObject({ verdict: 'pass', command: 'sent' });
    expect((await board.peer.take(8)).toString('hex')).toBe('010500000000cdca');

    decision = DENY;
    tap = taps(s);
    await reader.peer.write(encodeTap(profiles.readers.get('rdm6300')!, 'card', '0A00000001'));
    expect((await board.peer.take(8)).toString('hex')).toBe('01050001ff00ddfa');
    expect(await tap).toMatchObject({ verdict: 'deny', command: 'sent' });
    expect((await board.peer.take(8)).toString('hex')).toBe('0105000100009c0a');
  });

  it('reports a failed command when the Modbus board does not answer, and still sends the off', async () => {
    const reader = await device('reader');
    const board = await device('board');
    const s = await start(
      [{ id: 'G1', group: 'north', reader: { path: reader.path, profile: 'hex-uid' }, controller: { path: board.path, profile: 'modbus-relay', unit: 3, openCoil: 5 } }],
      async () => PASS,
    );
    const tap = taps(s);
    await reader.peer.write('04A1B2C3\r\n');
    expect(await tap).toMatchObject({ command: 'failed' });
    const on = await board.peer.take(8);
    expect(on.subarray(0, 6).toString('hex')).toBe('03050005ff00');
    expect((await board.peer.take(8)).subarray(0, 6).toString('hex')).toBe('030500050000');
    expect(s.status().find((d) => d.role === 'controller')?.lastCommandError).toMatch(/Timed out/i);
  });

  it('drops garbage, partial and bad-checksum frames between good ones, and counts them', async () => {
    const reader = await device('reader');
    const seen: string[] = [];
    const s = await start([{ id: 'G1', group: 'north', reader: { path: reader.path, profile: 'rdm6300' } }], async (c) => (seen.push(c.value), PASS));
    const drops: FrameDroppedEvent[] = [];
    s.on('frame-dropped', (d) => drops.push(d));
    const good = encodeTap(profiles.readers.get('rdm6300')!, 'card', '0A007186A6');
    const other = encodeTap(profiles.readers.get('rdm6300')!, 'card', '0B00000002');
    const tap = once<TapEvent>(s, 'tap', { match: () => seen.length === 2 });
    await reader.peer.write(Buffer.concat([Buffer.from('\xff\xfe~~', 'latin1'), good.subarray(0, 5)]));
    await reader.peer.write(Buffer.concat([good.subarray(5), Buffer.from('\x020A00'), Buffer.from('\x020A007186A600\x03')]));
    await reader.peer.write(other);
    await tap;
    expect(seen).toEqual(['0A007186A6', '0B00000002']);
    expect(drops.map((d) => d.why)).toEqual(['garbage', 'partial', 'checksum']);
    expect(s.status()[0]?.dropped).toEqual({ garbage: 1, partial: 1, checksum: 1 });
  });

  it('suppresses repeats per reader within the profile window, and lets them through after it', async () => {
    const reader = await device('reader');
    let now = 1_000_000;
    const seen: string[] = [];
    const s = await start([{ id: 'G1', group: 'north', reader: { path: reader.path, profile: 'hex-uid' } }], async (c) => (seen.push(c.value), PASS), { clock: () => now });
    const repeats = () => s.status()[0]?.dropped.repeat ?? 0;
    let tap = taps(s);
    await reader.peer.write('04A1B2C3\r\n');
    await tap;
    const dropped = once<FrameDroppedEvent>(s, 'frame-dropped', { match: () => repeats() === 2 });
    now += 1000;
    await reader.peer.write('04A1B2C3\r\n04A1B2C3\r\n');
    await dropped;
    tap = taps(s);
    await reader.peer.write('04A1B2C4\r\n');
    await tap;
    tap = taps(s);
    now += 3001;
    await reader.peer.write('04A1B2C4\r\n');
    await tap;
    expect(seen).toEqual(['04A1B2C3', '04A1B2C4', '04A1B2C4']);
  });

  it('tells the gate deny when the decision misses the deadline', async () => {
    const reader = await device('reader');
    const gate = await device('gate');
    const s = await start(
      [{ id: 'G1', group: 'north', policy: { deadlineMs: 25 }, reader: { path: reader.path, profile: 'hex-uid' }, controller: { path: gate.path, profile: 'text-gate' } }],
      () => new Promise<Decision>(() => undefined),
    );
    const tap = taps(s);
    await reader.peer.write('04A1B2C3\r\n');
    expect((await gate.peer.take(29)).toString('latin1')).toBe('DENY A MINISTRY_UNAVAILABLE\r\n');
    expect(await tap).toMatchObject({ verdict: 'deny', reason: 'MINISTRY_UNAVAILABLE', source: 'none', fallback: true });
  });

  it('reopens an unplugged port with back-off and keeps working, never crashing', async () => {
    const reader = await device('reader');
    const seen: string[] = [];
    const s = await start([{ id: 'G1', group: 'north', reader: { path: reader.path, profile: 'hex-uid' } }], async (c) => (seen.push(c.value), PASS));
    expect(s.status()[0]?.state).toBe('open');

    const lost = once<DeviceEvent>(s, 'device', { match: (e) => e.state === 'reconnecting' });
    await reader.peer.close();
    await reader.pair.kill();
    expect(await lost).toMatchObject({ id: 'G1/reader', role: 'reader', state: 'reconnecting' });

    const back = once<DeviceEvent>(s, 'device', { match: (e) => e.state === 'open' });
    const again = await startPtyPair(reader.pair.a, reader.pair.b);
    pairs.push(again);
    await back;
    const peer = await Peer.open(again.b);
    peers.push(peer);
    const tap = taps(s);
    await peer.write('04A1B2C3\r\n');
    await tap;
    expect(seen).toEqual(['04A1B2C3']);
    expect(s.status()[0]).toMatchObject({ state: 'open', reopens: 1 });
    expect(describeDevices(parseStationGates([{ id: 'G1', group: 'north', reader: { path: reader.path, profile: 'hex-uid' } }], profiles), s.status())).toMatch(
      /G1 +north +reader +G1\/reader .* hex-uid +open +1 reads; reopened 1x/,
    );
  });

  it('starts with a port missing, and opens it when it appears', async () => {
    const path = join(dir, 'late');
    const s = await start([{ id: 'G1', group: 'north', reader: { path, profile: 'hex-uid' } }], async () => PASS);
    expect(s.status()[0]).toMatchObject({ state: 'reconnecting' });
    expect(s.status()[0]?.lastError).toMatch(/ENOENT|No such file/);
    const opened = once<DeviceEvent>(s, 'device', { match: (e) => e.state === 'open' });
    pairs.push(await startPtyPair(path, `${path}-peer`));
    await opened;
  });

  it('reports a missing port once, not at each retry, and a stop as an expected close (issue 22)', async () => {
    const path = join(dir, 'never-there');
    const events: DeviceEvent[] = [];
    let attempts = 0;
    let retried!: () => void;
    const fourRetries = new Promise<void>((r) => (retried = r));
    const quiet = (): void => undefined;
    const logger = {
      debug: (_o: unknown, msg: string) => {
        if (msg === 'device port unavailable; retrying' && ++attempts === 4) retried();
      },
      info: quiet,
      warn: quiet,
      error: quiet,
    } as unknown as NonNullable<Parameters<typeof createStation>[0]['logger']>;
    station = createStation({ gates: parseStationGates([{ id: 'G1', group: 'north', reader: { path, profile: 'hex-uid' } }], profiles), profiles, decide: async () => PASS, backoff: { initialMs: 5, maxMs: 10 }, logger });
    station.on('device', (e) => events.push(e));
    await station.start();
    await fourRetries;
    expect(station.status()[0]!.failedAttempts).toBeGreaterThanOrEqual(4);
    expect(events.map((e) => e.state)).toEqual(['reconnecting']);
    expect(events[0]!.error).toMatch(/ENOENT|No such file/);
    await station.stop();
    expect(events.map((e) => [e.state, e.expected ?? false])).toEqual([['reconnecting', false], ['closed', true]]);
    station = undefined;
  });
});
