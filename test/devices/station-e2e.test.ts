/**
 * A station described in configuration, end to end: a QR scanner and a card reader on
 * pseudo-terminals, a text-protocol gate controller on a third, the whole gate with its
 * embedded simulator in between.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from '../http/helpers.js';
import { describeSerial, once, Peer, startPtyPair, type PtyPair } from './pty.js';

describeSerial('a configured station on pseudo-terminals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hes-gate-station-'));
  const pairs: PtyPair[] = [];
  let scanner: Peer;
  let cardReader: Peer;
  let gateBoard: Peer;
  let t: Awaited<ReturnType<typeof startTestGate>>;

  beforeAll(async () => {
    pairs.push(await startPtyPair(join(dir, 'qr'), join(dir, 'qr-peer')));
    pairs.push(await startPtyPair(join(dir, 'card'), join(dir, 'card-peer')));
    pairs.push(await startPtyPair(join(dir, 'gate'), join(dir, 'gate-peer')));
    t = await startTestGate(
      {
        refresher: { enabled: false },
        gates: {
          list: [
            {
              id: 'N1',
              group: 'north',
              readers: [
                { id: 'N1/qr', path: join(dir, 'qr'), profile: 'honeywell-qr' },
                { id: 'N1/card', path: join(dir, 'card'), profile: 'hex-uid' },
              ],
              controller: { path: join(dir, 'gate'), profile: 'text-gate', passage: 'A' },
            },
          ],
        },
      },
      { HES_GATE_ADMIN_TOKEN: 'admin-token-1' },
    );
    scanner = await Peer.open(join(dir, 'qr-peer'));
    cardReader = await Peer.open(join(dir, 'card-peer'));
    gateBoard = await Peer.open(join(dir, 'gate-peer'));
  });

  afterAll(async () => {
    await t?.gate.close();
    for (const p of [scanner, cardReader, gateBoard]) await p?.close();
    for (const p of pairs) await p.kill();
  });

  it('opens the gate for a RISKLESS QR code and shows a deny for a RISKY one', async () => {
    const station = t.gate.station!;
    let tap = once<{ verdict: string; reason: string; command: string }>(station, 'tap');
    await scanner.write(`]Q112345678901|${SAMPLE.RISKLESS}\r\n`);
    expect(await tap).toMatchObject({ verdict: 'pass', reason: 'RISKLESS', command: 'sent' });
    expect((await gateBoard.take('OPEN A\r\n'.length)).toString('latin1')).toBe('OPEN A\r\n');

    tap = once(station, 'tap');
    await scanner.write(`]Q112345678901|${SAMPLE.RISKY}\r\n`);
    expect(await tap).toMatchObject({ verdict: 'deny', reason: 'RISKY' });
    expect((await gateBoard.take('DENY A RISKY\r\n'.length)).toString('latin1')).toBe('DENY A RISKY\r\n');
  });

  it('decides a card from its binding, and an unbound card is denied', async () => {
    const put = await fetch(`${t.url}/v1/cards/04A1B2C3`, {
      method: 'PUT',
      headers: { authorization: 'Bearer admin-token-1', 'content-type': 'application/json' },
      body: JSON.stringify({ hesCode: SAMPLE.RISKLESS }),
    });
    expect(put.status).toBe(201);
    const station = t.gate.station!;
    let tap = once<{ verdict: string; reason: string }>(station, 'tap');
    await cardReader.write('04A1B2C3\r\n');
    expect(await tap).toMatchObject({ verdict: 'pass', reason: 'RISKLESS' });
    expect((await gateBoard.take('OPEN A\r\n'.length)).toString('latin1')).toBe('OPEN A\r\n');

    tap = once(station, 'tap');
    await cardReader.write('04FFFFFF\r\n');
    expect(await tap).toMatchObject({ verdict: 'deny', reason: 'CARD_UNBOUND' });
    expect((await gateBoard.take('DENY A CARD_UNBOUND\r\n'.length)).toString('latin1')).toBe('DENY A CARD_UNBOUND\r\n');
  });

  it('shows the devices in /readyz and /metrics, and no credential in either', async () => {
    const ready = (await (await fetch(`${t.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    expect(ready.checks['device N1/qr']).toMatchObject({ ok: true });
    expect(ready.checks['device N1/card']).toMatchObject({ ok: true });
    const devices = (await (await fetch(`${t.url}/v1/devices`, { headers: { authorization: 'Bearer admin-token-1' } })).json()) as { devices: Array<{ id: string; state: string; count: number }> };
    expect(devices.devices.find((d) => d.id === 'N1/qr')).toMatchObject({ state: 'open', count: 2 });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain('hes_gate_device_up{device="N1/qr",role="reader"} 1');
    expect(metrics).toMatch(/hes_gate_device_taps_total\{gate="N1",verdict="pass",command="sent"\} \d/);
    expect(metrics).not.toContain('04A1B2C3');
    expect(t.logs.raw.join('\n')).not.toContain('04A1B2C3');
  });
});
