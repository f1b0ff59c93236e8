/**
 * What a hung-up reader line costs: a device link holds a socat PTY open, a frame arrives and
 * the line hangs up before the next read (socat SIGKILLed from inside the port's `data` emit,
 * as in test/devices/hangup.test.ts). Over the next window it measures, per variant, the
 * process's CPU time, read(2) calls (/proc/self/io syscr), event-loop delay, heap growth, and
 * when (if ever) the link reported the drop:
 *   stock        serialport's own binding (bindings-cpp unixRead retries a 0-byte read for ever)
 *   hangup-aware openSerialPort, whose binding ends the port on end-of-file
 * Each variant runs in its own process (a stock loop outlives its link only until close, but a
 * clean process keeps the figures apart). Linux only; needs socat.
 *   npm run build && node dist/bench/serial-hangup.js [windowMs]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';
import { DEFAULT_BACKOFF, DeviceLink } from '../src/devices/device-link.js';
import { openSerialPort, type LineSettings, type OpenPort, type SerialPortLike } from '../src/devices/serial-port.js';
import { ptyPair } from './serial-tap.js';

type Variant = 'stock' | 'hangup-aware';

export interface HangupFigures {
  variant: Variant;
  windowMs: number;
  cpuMs: number;
  cpuPercent: number;
  readSyscalls: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  heapGrowthMb: number;
  /** ms from the hangup to the link's `reconnecting`, or null if it never came in the window. */
  reportedAfterMs: number | null;
}

const LINE: LineSettings = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };

const stockPort: OpenPort = (path, s) =>
  new SerialPort({ path, baudRate: s.baudRate, dataBits: s.dataBits, parity: s.parity, stopBits: s.stopBits, autoOpen: false }) as unknown as SerialPortLike;

const readSyscalls = (): number => Number(/syscr: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);

async function measure(variant: Variant, windowMs: number): Promise<HangupFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'hg-hangup-bench-'));
  const a = join(dir, 'reader');
  const socat = await ptyPair(a, `${a}-peer`);
  socat.removeAllListeners('exit');
  const pid = socat.pid!;
  let hungUpAt = 0;
  const opener = variant === 'stock' ? stockPort : openSerialPort;
  const openPort: OpenPort = (path, s) => {
    const port = opener(path, s);
    port.on('data', () => {
      if (hungUpAt) return;
      process.kill(pid, 'SIGKILL');
      while (!/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))); // files closed: line hung up
      hungUpAt = performance.now();
    });
    return port;
  };
  const link = new DeviceLink(a, LINE, openPort, DEFAULT_BACKOFF, Date.now);
  await link.start();
  let reportedAt: number | undefined;
  link.on('state', (s) => {
    if (s.state === 'reconnecting' && reportedAt === undefined) reportedAt = performance.now();
  });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const syscr0 = readSyscalls();
  const cpu0 = process.cpuUsage();
  const heap0 = process.memoryUsage().heapUsed;
  delay.enable();
  // The device's frame, written into the peer end without opening it as a serial port (its own read would loop too).
  writeFileSync(`${a}-peer`, '04A1B2C3\r\n');
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  delay.disable();
  const cpu = process.cpuUsage(cpu0);
  const elapsed = performance.now() - (hungUpAt || performance.now());
  const figures: HangupFigures = {
    variant,
    windowMs: Math.round(elapsed),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    cpuPercent: Math.round((cpu.user + cpu.system) / 10 / elapsed),
    readSyscalls: readSyscalls() - syscr0,
    loopDelayP99Ms: Math.round(delay.percentile(99) / 1e4) / 100,
    loopDelayMaxMs: Math.round(delay.max / 1e4) / 100,
    heapGrowthMb: Math.round((process.memoryUsage().heapUsed - heap0) / 1e4) / 100,
    reportedAfterMs: reportedAt === undefined || !hungUpAt ? null : Math.round((reportedAt - hungUpAt) * 10) / 10,
  };
  await link.stop();
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

export function benchSerialHangup(windowMs: number): HangupFigures[] {
  return (['stock', 'hangup-aware'] as const).map((variant) => {
    const child = spawnSync(process.execPath, [process.argv[1]!, '--variant', variant, String(windowMs)], { encoding: 'utf8' });
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0 || !line.startsWith('{')) throw new Error(`${variant} run failed (${child.status}): ${child.stderr}`);
    return JSON.parse(line) as HangupFigures;
  });
}

export function formatSerialHangup(rows: HangupFigures[]): string {
  const head = 'variant        window  CPU ms  CPU %   read(2)  loop p99/max ms  heap +MB  drop reported';
  return [
    head,
    ...rows.map((r) =>
      [
        r.variant.padEnd(13),
        `${r.windowMs}`.padStart(7),
        `${r.cpuMs}`.padStart(7),
        `${r.cpuPercent}`.padStart(6),
        `${r.readSyscalls}`.padStart(9),
        `${r.loopDelayP99Ms}/${r.loopDelayMaxMs}`.padStart(16),
        `${r.heapGrowthMb}`.padStart(9),
        r.reportedAfterMs === null ? '  never' : `  after ${r.reportedAfterMs} ms`,
      ].join(' '),
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--variant');
  const variant = at >= 0 ? (args.splice(at, 2)[1] as Variant) : undefined;
  const windowMs = Number(args[0] ?? 3000);
  if (variant) {
    measure(variant, windowMs).then(
      (f) => {
        console.log(JSON.stringify(f));
        process.exit(0);
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  } else {
    console.log(`a reader line hung up mid-delivery, ${windowMs} ms window after the hangup`);
    console.log(formatSerialHangup(benchSerialHangup(windowMs)));
  }
}
