/**
 * Serial tap → gate command over PTYs, as a figure of the suite: runs the colleague's
 * serial-tap.ts (raw PTY echo baseline and the station's path, same run) and checks the
 * overhead targets. Needs socat. Run alone: `node dist/bench/serial.js [--quick]`.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { PACKAGE_ROOT } from '../src/config/load.js';
import { benchSerialTap, formatSerialTap } from './serial-tap.js';
import { isMain, ms, runAlone, type BenchOptions, type FigureReport } from './report.js';

const P50_MAX_EXTRA_MS = 0.5;
const P99_MAX_EXTRA_MS = 2;

export async function benchSerial(o: BenchOptions & { taps?: number } = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  if (spawnSync('sh', ['-c', 'command -v socat'], { encoding: 'utf8' }).status !== 0) {
    console.log('serial: skipped, socat is not installed (apt-get install -y socat)');
    return {
      name: 'serial',
      rows: [{ figure: 'serial tap → gate command (PTY)', baseline: 'raw PTY echo', measured: 'skipped: no socat', target: '—', met: null }],
      details: { skipped: 'socat not installed' },
      durationMs: performance.now() - began,
    };
  }
  // serial-tap.ts reads device profiles from ./devices: run it from the package root.
  const cwd = process.cwd();
  process.chdir(PACKAGE_ROOT);
  let r: Awaited<ReturnType<typeof benchSerialTap>>;
  try {
    r = await benchSerialTap({ taps: o.taps ?? (o.quick ? 300 : 2000) });
  } finally {
    process.chdir(cwd);
  }
  console.log(formatSerialTap(r));
  const d50 = r.tapP50Ms - r.rawEchoP50Ms;
  const d99 = r.tapP99Ms - r.rawEchoP99Ms;
  return {
    name: 'serial',
    rows: [
      {
        figure: `serial tap → gate command, p50 (${r.taps} taps)`,
        baseline: `raw PTY echo ${ms(r.rawEchoP50Ms)}`,
        measured: ms(r.tapP50Ms),
        target: `+${d50.toFixed(3)} ms (≤ +${P50_MAX_EXTRA_MS} ms)`,
        met: d50 <= P50_MAX_EXTRA_MS,
      },
      {
        figure: '  same, p99',
        baseline: `raw PTY echo ${ms(r.rawEchoP99Ms)}`,
        measured: ms(r.tapP99Ms),
        target: `+${d99.toFixed(3)} ms (≤ +${P99_MAX_EXTRA_MS} ms)`,
        met: d99 <= P99_MAX_EXTRA_MS,
      },
    ],
    details: { ...r, extraP50Ms: d50, extraP99Ms: d99 },
    durationMs: performance.now() - began,
  };
}

if (isMain(import.meta.url)) runAlone(benchSerial);
