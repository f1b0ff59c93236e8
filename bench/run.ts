/**
 * The benchmark suite (issue 5): `npm run bench`, or a subset and/or `--quick`:
 *   node dist/bench/run.js [throughput latency hang single-flight ministry-client serial memory cards card-taps cpu journal no-stall saturation city city-new-cards city-reconcile vehicle-list] [--quick]
 *
 * Every figure is measured against its baseline in the same run (see docs/performance.md);
 * servers under test run in child processes (server-main.ts). Prints one table at the end and
 * writes everything to bench/results/latest.json (git-ignored), with the machine it ran on.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PACKAGE_ROOT } from '../src/config/load.js';
import { benchThroughput } from './throughput.js';
import { benchLatency } from './latency.js';
import { benchMinistryHang } from './ministry-hang.js';
import { benchSingleFlight } from './single-flight.js';
import { benchMinistryClient } from './ministry-client.js';
import { benchSerial } from './serial.js';
import { benchStatusMemory } from './status-memory.js';
import { benchCardsFigure } from './cards-figure.js';
import { benchCardTaps } from './card-taps.js';
import { benchCpuPerDecision } from './cpu-per-decision.js';
import { benchJournal } from './journal.js';
import { benchNoStall } from './no-stall.js';
import { benchSaturation } from './saturation.js';
import { benchCity } from './city.js';
import { benchCityNewCards } from './city-new-cards.js';
import { benchCityReconcile } from './city-reconcile.js';
import { benchVehicleList } from './vehicle-list.js';
import { rowsTable, type BenchOptions, type FigureReport, type Row } from './report.js';

const FIGURES: Array<{ name: string; aliases: string[]; run: (o: BenchOptions) => Promise<FigureReport> }> = [
  { name: 'throughput', aliases: [], run: benchThroughput },
  { name: 'latency', aliases: [], run: benchLatency },
  { name: 'ministry-hang', aliases: ['hang'], run: benchMinistryHang },
  { name: 'single-flight', aliases: [], run: benchSingleFlight },
  { name: 'ministry-client', aliases: ['client'], run: benchMinistryClient },
  { name: 'serial', aliases: ['serial-tap'], run: benchSerial },
  { name: 'status-memory', aliases: ['memory'], run: benchStatusMemory },
  { name: 'cards', aliases: [], run: benchCardsFigure },
  { name: 'card-taps', aliases: [], run: benchCardTaps },
  { name: 'cpu-per-decision', aliases: ['cpu'], run: benchCpuPerDecision },
  { name: 'journal', aliases: [], run: benchJournal },
  { name: 'no-stall', aliases: ['hardening'], run: benchNoStall },
  { name: 'saturation', aliases: ['overload'], run: benchSaturation },
  { name: 'city', aliases: [], run: benchCity },
  { name: 'city-new-cards', aliases: ['new-cards'], run: benchCityNewCards },
  { name: 'city-reconcile', aliases: ['reconcile'], run: benchCityReconcile },
  { name: 'vehicle-list', aliases: ['vlist'], run: benchVehicleList },
];

function gitCommit(): string | null {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: PACKAGE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !FIGURES.some((f) => f.name === w || f.aliases.includes(w)));
  if (unknown.length > 0) {
    console.error(`unknown figure(s): ${unknown.join(', ')}; known: ${FIGURES.map((f) => f.name).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const selected = wanted.length === 0 ? FIGURES : FIGURES.filter((f) => wanted.some((w) => f.name === w || f.aliases.includes(w)));
  const began = performance.now();
  const startedAt = new Date();
  const loadStart = loadavg();
  const cpuList = cpus();
  console.log(
    `hes-gate benchmarks${quick ? ' (--quick: shorter runs, not for quoting)' : ''}: ${selected.map((f) => f.name).join(', ')}\n` +
      `node ${process.version}, ${cpuList.length} × ${cpuList[0]?.model ?? 'cpu'}, load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}\n`,
  );

  const reports: FigureReport[] = [];
  const failed: Array<{ name: string; error: string }> = [];
  for (const f of selected) {
    console.log(`── ${f.name} ${'─'.repeat(Math.max(0, 60 - f.name.length))}`);
    try {
      const r = await f.run({ quick });
      reports.push(r);
      console.log(`   (${(r.durationMs / 1000).toFixed(1)} s)\n`);
    } catch (err) {
      console.error(`${f.name} failed:`, err);
      failed.push({ name: f.name, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  }

  const rows: Row[] = reports.flatMap((r) => r.rows);
  for (const f of failed) rows.push({ figure: f.name, baseline: '—', measured: 'FAILED (see log)', target: '—', met: false });
  const totalMs = performance.now() - began;
  const loadEnd = loadavg();
  console.log(rowsTable(rows));
  const targets = rows.filter((r) => r.met !== null);
  console.log(
    `\n${targets.filter((r) => r.met).length} of ${targets.length} targets met; total ${(totalMs / 1000).toFixed(1)} s; ` +
      `load average at the end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const dir = resolve(PACKAGE_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, 'latest.json');
  const out = {
    date: startedAt.toISOString(),
    quick,
    figures: selected.map((f) => f.name),
    totalMs,
    machine: {
      node: process.version,
      v8: process.versions.v8,
      platform: `${process.platform} ${release()} ${process.arch}`,
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model ?? null,
      totalMemBytes: totalmem(),
      loadAverageStart: loadStart,
      loadAverageEnd: loadEnd,
    },
    commit: gitCommit(),
    rows,
    reports,
    failed,
  };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`results: ${file}`);
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
