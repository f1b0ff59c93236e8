/**
 * A reader's line that hangs up (USB-serial adapter unplugged, socat killed) while a chunk is
 * being delivered: the next read is the first after the hangup and meets end-of-file. serialport's
 * stock binding retried that read for ever and never closed the port (hangup-binding.ts); the
 * station must report the reader down and reopen it when the line comes back.
 *
 * The order is made certain, not hoped for: the test hangs the line up from inside the port's
 * own `data` emit, which serialport runs before it issues the next read, and returns only once
 * socat has closed its PTY masters.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseStationGates } from '../../src/devices/config.js';
import { HANGUP_MESSAGE } from '../../src/devices/hangup-binding.js';
import { loadProfiles } from '../../src/config/device-profiles.js';
import { openSerialPort, type OpenPort } from '../../src/devices/serial-port.js';
import { createStation, type DeviceEvent, type Station, type TapEvent } from '../../src/devices/station.js';
import type { Decision } from '../../src/types.js';
import { describeSerial, once, Peer, startPtyPair, type PtyPair } from './pty.js';

const profiles = loadProfiles('devices');
const PASS: Decision = { verdict: 'pass', reason: 'RISKLESS', source: 'cache' };

let dir: string;
let pairs: PtyPair[];
let peers: Peer[];
let station: Station | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hg-hangup-'));
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

/**
 * Kill socat and return once it is a zombie, without yielding to the event loop: a process
 * closes its files before it becomes a zombie, so the PTY masters are closed and the line is
 * hung up. Spins on /proc for the few milliseconds that takes (a sleep would yield).
 */
function hangUpNow(pair: PtyPair): void {
  const pid = pair.process.pid!;
  process.kill(pid, 'SIGKILL');
  const giveUpAt = Date.now() + 5000;
  while (!/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) {
    if (Date.now() > giveUpAt) throw new Error(`socat ${pid} did not exit after SIGKILL`);
  }
}

describeSerial('a reader line that hangs up', () => {
  it('is reported down (end-of-file), reopened when the line comes back, and reads taps again', async () => {
    const reader = join(dir, 'reader');
    const first = await startPtyPair(reader, `${reader}-peer`);
    pairs.push(first);
    const peer = await Peer.open(first.b);
    peers.push(peer);

    let hangUpOnData: PtyPair | undefined;
    // The real port; the test only listens first to its data, to hang up before the next read.
    const openPort: OpenPort = (path, settings) => {
      const port = openSerialPort(path, settings);
      port.on('data', () => {
        const pair = hangUpOnData;
        hangUpOnData = undefined;
        if (pair) hangUpNow(pair);
      });
      return port;
    };
    const gates = parseStationGates([{ id: 'G1', group: 'north', reader: { path: reader, profile: 'hex-uid' } }], profiles);
    station = createStation({ gates, profiles, decide: async () => PASS, openPort, backoff: { initialMs: 20, maxMs: 200 } });
    const s = station;
    await s.start();
    expect(s.status()[0]?.state).toBe('open');

    const events: DeviceEvent[] = [];
    s.on('device', (e) => events.push(e));
    const down = once<DeviceEvent>(s, 'device', { match: (e) => e.state === 'reconnecting' });
    hangUpOnData = first;
    await peer.write('04A1B2C3\r\n');
    expect(await down).toMatchObject({ id: 'G1/reader', role: 'reader', state: 'reconnecting', error: HANGUP_MESSAGE });
    expect(s.status()[0]).toMatchObject({ state: 'reconnecting', lastError: expect.any(String) as unknown });
    // Said once: later events of this outage are the reopen attempts failing on the missing path.
    expect(events.filter((e) => e.error === HANGUP_MESSAGE)).toHaveLength(1);

    // socat killed with SIGKILL leaves its links behind: a new socat on the same paths needs them gone.
    rmSync(first.a, { force: true });
    rmSync(first.b, { force: true });
    const back = once<DeviceEvent>(s, 'device', { match: (e) => e.state === 'open' });
    const second = await startPtyPair(first.a, first.b);
    pairs.push(second);
    await back;
    const peer2 = await Peer.open(second.b);
    peers.push(peer2);
    const tap = once<TapEvent>(s, 'tap');
    await peer2.write('04A1B2C4\r\n');
    expect(await tap).toMatchObject({ gate: 'G1', reader: 'G1/reader', verdict: 'pass', masked: '…B2C4' });
    expect(s.status()[0]).toMatchObject({ state: 'open', reopens: 1 });
  });
});
