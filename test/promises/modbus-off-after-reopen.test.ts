/**
 * Promise: a Modbus relay pulsed on is turned off even when its port drops in the middle of the
 * pulse — a gate must not stay unlocked because a USB adapter was unplugged and plugged back
 * while its "open" coil was on. The "off" is owed while the port is gone and sent when the port
 * reopens. The whole gate runs with the relay board on a pseudo-terminal; the profile's pulse is
 * longer than the test, so only the reopen can send the "off".
 *
 * Two things make it deterministic. serialport does not always notice a hung-up pseudo-terminal
 * by reading (a read may return end-of-file, which it retries for ever), but a write to one fails
 * at once: a passenger tapping at the dead gate (a pass: the other coil) makes the station find
 * the port gone. And the board comes back under a new socat whose device end the test opens
 * first, then moves to the path the station retries (a rename: atomic), so the board listens
 * before the station can open the port.
 */
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { DeviceEvent } from '../../src/devices/station.js';
import { describeSerial, once, Peer, startPtyPair, type PtyPair } from '../devices/pty.js';
import { startTestGate } from '../http/helpers.js';
import { SAMPLE } from '../../src/simulator/index.js';
import { ADMIN_TOKEN, bindCard, profilesWithLongPulses } from './helpers.js';

const ON_DENY_COIL = '01050001ff00ddfa'; // unit 1, FC05, coil 1, on
const OFF_DENY_COIL = '0105000100009c0a'; // unit 1, FC05, coil 1, off
const PASSING_CARD = '04A1B2C4';

const pairs: PtyPair[] = [];
const peers: Peer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) await p.close();
  for (const p of pairs.splice(0)) await p.kill();
});

/** A board that answers each FC05 request with its echo, as relay boards do. */
async function board(path: string): Promise<Peer> {
  const peer = await Peer.open(path);
  peers.push(peer);
  peer.onData = (chunk) => void peer.port.write(chunk);
  return peer;
}

describeSerial('a Modbus relay whose port drops while a coil is on', () => {
  it('sends the owed "off" when the port reopens', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-modbus-reopen-'));
    pairs.push(await startPtyPair(join(dir, 'reader'), join(dir, 'reader-peer')));
    const first = await startPtyPair(join(dir, 'board'), join(dir, 'board-peer'));
    pairs.push(first);
    const t = await startTestGate({
      refresher: { enabled: false },
      devicesDir: profilesWithLongPulses(dir),
      gates: {
        list: [
          {
            id: 'N1',
            readers: [{ id: 'N1/card', path: join(dir, 'reader'), profile: 'hex-uid' }],
            controller: { path: join(dir, 'board'), profile: 'modbus-relay' },
          },
        ],
      },
    }, { HES_GATE_ADMIN_TOKEN: ADMIN_TOKEN });
    try {
      await bindCard(t.url, PASSING_CARD, SAMPLE.RISKLESS);
      // Its status cached, so the tap at the dead gate is a pass whatever the ministry's pace.
      expect((await t.post({ gate: 'N1', hesCode: SAMPLE.RISKLESS })).body).toMatchObject({ verdict: 'pass' });
      const reader = await Peer.open(join(dir, 'reader-peer'));
      peers.push(reader);
      const before = await board(join(dir, 'board-peer'));

      // An unbound card: a deny, so the deny lamp's coil goes on (for a minute).
      const tap = once<{ verdict: string; command: string }>(t.gate.station!, 'tap');
      await reader.write('04A1B2C3\r\n');
      expect((await before.take(8)).toString('hex')).toBe(ON_DENY_COIL);
      expect(await tap).toMatchObject({ verdict: 'deny', command: 'sent' });

      // The adapter is unplugged with the coil on; a passenger taps at the gate meanwhile.
      // (What the station said about its controller, for a failure's message.)
      const seen: string[] = [];
      t.gate.station!.on('device', (e: DeviceEvent) => void (e.id === 'N1/controller' && seen.push(`${e.state}${e.error === undefined ? '' : ` (${e.error})`}`)));
      const gone = once<DeviceEvent>(t.gate.station!, 'device', { match: (e) => e.id === 'N1/controller' && e.state === 'reconnecting' });
      await first.kill();
      const passed = once<{ verdict: string; command: string }>(t.gate.station!, 'tap');
      await reader.write(`${PASSING_CARD}\r\n`);
      expect(await passed, `controller: ${seen.join(', ')}`).toMatchObject({ verdict: 'pass', command: 'failed' });
      await gone.catch((err: Error) => Promise.reject(new Error(`${err.message}; controller: ${seen.join(', ')}`)));

      // It is plugged back: the board listens, then its port appears where the station looks.
      pairs.push(await startPtyPair(join(dir, 'board-next'), join(dir, 'board-peer-next')));
      const after = await board(join(dir, 'board-peer-next'));
      renameSync(join(dir, 'board-next'), join(dir, 'board'));
      // The first thing the board hears is the owed "off" (within the station's reconnect back-off).
      const heard = await after.take(8, 10_000).catch((err: Error) => Promise.reject(new Error(`${err.message}; controller: ${seen.join(', ')}`)));
      expect(heard.toString('hex'), `controller: ${seen.join(', ')}`).toBe(OFF_DENY_COIL);
    } finally {
      await t.gate.close();
    }
  });
});
