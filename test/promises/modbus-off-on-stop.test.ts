/**
 * Promise: a Modbus relay pulsed on is turned off when the station stops — a gate must not stay
 * unlocked (or its deny lamp lit) because hes-gate shut down in the middle of a pulse. The whole
 * gate runs with a relay board on a pseudo-terminal; its profile's pulse is made longer than the
 * test, so only the shutdown can send the "off".
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeSerial, once, Peer, startPtyPair, type PtyPair } from '../devices/pty.js';
import { startTestGate } from '../http/helpers.js';
import { profilesWithLongPulses } from './helpers.js';

const ON_DENY_COIL = '01050001ff00ddfa'; // unit 1, FC05, coil 1, on
const OFF_DENY_COIL = '0105000100009c0a'; // unit 1, FC05, coil 1, off

const pairs: PtyPair[] = [];
const peers: Peer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) await p.close();
  for (const p of pairs.splice(0)) await p.kill();
});

describeSerial('a Modbus relay when the station stops', () => {
  it('sends the owed "off" before shutdown completes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-modbus-stop-'));
    pairs.push(await startPtyPair(join(dir, 'reader'), join(dir, 'reader-peer')));
    pairs.push(await startPtyPair(join(dir, 'board'), join(dir, 'board-peer')));
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
    });
    let closed = false;
    try {
      const reader = await Peer.open(join(dir, 'reader-peer'));
      const board = await Peer.open(join(dir, 'board-peer'));
      peers.push(reader, board);
      // The board answers each FC05 request with its echo, as relay boards do.
      board.onData = (chunk) => void board.port.write(chunk);

      // An unbound card: a deny, so the deny lamp's coil goes on (for a minute).
      const tap = once<{ verdict: string; command: string }>(t.gate.station!, 'tap');
      await reader.write('04A1B2C3\r\n');
      expect((await board.take(8)).toString('hex')).toBe(ON_DENY_COIL);
      expect(await tap).toMatchObject({ verdict: 'deny', command: 'sent' });

      await t.gate.close();
      closed = true;
      expect(board.pending().toString('hex')).toBe(OFF_DENY_COIL);
    } finally {
      if (!closed) await t.gate.close();
    }
  });
});
