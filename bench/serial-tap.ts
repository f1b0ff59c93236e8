/**
 * Tap → gate command over pseudo-terminals, next to the raw PTY round trip it rides on.
 *
 *   baseline: bytes written into one end of a socat pair, until they arrive at the other end
 *   tap:      a hex-uid reader frame written into the reader's peer PTY, until "OPEN A\r\n"
 *             arrives at the text-gate controller's peer PTY (decide() answers at once)
 *
 * So tap − baseline ≈ the station's own cost plus one more PTY hop. Sequential, bounded.
 * Run alone: `npm run build && node dist/bench/serial-tap.js [taps]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';
import { parseStationGates } from '../src/devices/config.js';
import { loadProfiles } from '../src/config/device-profiles.js';
import { createStation, type TapEvent } from '../src/devices/station.js';
import type { Decision } from '../src/types.js';

export interface SerialTapResult {
  taps: number;
  rawEchoP50Ms: number;
  rawEchoP99Ms: number;
  tapP50Ms: number;
  tapP99Ms: number;
  /** The station's own measure: frame arrival → command written. */
  stationP50Ms: number;
  stationP99Ms: number;
  durationMs: number;
}

const PASS: Decision = { verdict: 'pass', reason: 'RISKLESS', source: 'cache' };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function ptyPair(a: string, b: string): Promise<ChildProcess> {
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (t: string) => {
      log += t;
      if (log.includes('starting data transfer loop')) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`socat exited (${code}): ${log}`)));
  });
}

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false, lock: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

/** Write `bytes` into `from`, resolve with ms until `expect` bytes have arrived at `to`. */
function roundTrip(from: SerialPort, to: SerialPort, bytes: Buffer, expect: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const started = performance.now();
    const timer = setTimeout(() => {
      to.off('data', onData);
      reject(new Error('no bytes within 2 s'));
    }, 2000);
    const onData = (chunk: Buffer) => {
      got += chunk.length;
      if (got >= expect) {
        clearTimeout(timer);
        to.off('data', onData);
        resolve(performance.now() - started);
      }
    };
    to.on('data', onData);
    from.write(bytes);
  });
}

const close = (p: SerialPort) => new Promise<void>((r) => (p.isOpen ? p.close(() => r()) : r()));

export async function benchSerialTap(opts: { taps: number }): Promise<SerialTapResult> {
  const taps = Math.max(1, Math.min(opts.taps, 20_000));
  const dir = mkdtempSync(join(tmpdir(), 'hg-bench-serial-'));
  const children: ChildProcess[] = [];
  const ports: SerialPort[] = [];
  const began = performance.now();
  try {
    children.push(
      await ptyPair(join(dir, 'echo-a'), join(dir, 'echo-b')),
      await ptyPair(join(dir, 'reader'), join(dir, 'reader-peer')),
      await ptyPair(join(dir, 'gate'), join(dir, 'gate-peer')),
    );
    const [echoA, echoB, readerPeer, gatePeer] = await Promise.all(['echo-a', 'echo-b', 'reader-peer', 'gate-peer'].map((n) => openPort(join(dir, n))));
    ports.push(echoA!, echoB!, readerPeer!, gatePeer!);

    const frame = (i: number) => Buffer.from(`${(0x04000000 + i).toString(16).toUpperCase().padStart(8, '0')}\r\n`, 'latin1');
    const raw: number[] = [];
    for (let i = 0; i < taps; i++) raw.push(await roundTrip(echoA!, echoB!, frame(i), 10));

    const profiles = loadProfiles('devices');
    const gates = parseStationGates(
      [{ id: 'B1', group: 'bench', reader: { path: join(dir, 'reader'), profile: 'hex-uid' }, controller: { path: join(dir, 'gate'), profile: 'text-gate' } }],
      profiles,
    );
    const station = createStation({ gates, profiles, decide: async () => PASS });
    const stationMs: number[] = [];
    station.on('tap', (t: TapEvent) => stationMs.push(t.elapsedMs));
    await station.start();
    const tap: number[] = [];
    try {
      for (let i = 0; i < taps; i++) tap.push(await roundTrip(readerPeer!, gatePeer!, frame(i), 8));
    } finally {
      await station.stop();
    }
    for (const list of [raw, tap, stationMs]) list.sort((a, b) => a - b);
    return {
      taps,
      rawEchoP50Ms: percentile(raw, 50),
      rawEchoP99Ms: percentile(raw, 99),
      tapP50Ms: percentile(tap, 50),
      tapP99Ms: percentile(tap, 99),
      stationP50Ms: percentile(stationMs, 50),
      stationP99Ms: percentile(stationMs, 99),
      durationMs: performance.now() - began,
    };
  } finally {
    await Promise.all(ports.map(close));
    for (const c of children) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatSerialTap(r: SerialTapResult): string {
  const f = (n: number) => n.toFixed(3).padStart(8);
  return [
    `serial tap → gate command, ${r.taps} sequential taps over socat PTYs (${(r.durationMs / 1000).toFixed(1)} s)`,
    '                                     p50 ms   p99 ms',
    `raw PTY echo (baseline)            ${f(r.rawEchoP50Ms)} ${f(r.rawEchoP99Ms)}`,
    `tap → OPEN line at gate peer       ${f(r.tapP50Ms)} ${f(r.tapP99Ms)}`,
    `station only (frame → written)     ${f(r.stationP50Ms)} ${f(r.stationP99Ms)}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const taps = Number(process.argv[2] ?? 2000);
  benchSerialTap({ taps }).then(
    (r) => console.log(formatSerialTap(r)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
