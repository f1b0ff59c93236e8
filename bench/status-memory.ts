/**
 * Memory per cached status: a fresh child process (`--expose-gc`) fills a StatusService with N
 * ingested RISKLESS statuses of distinct codes and reports (RSS after − RSS before) / N and the
 * heapUsed delta / N, both after full GCs. "Before" is taken before the service is built, so the
 * table's typed arrays (sized by maxEntries = N, paged in as they fill) count too: that is what a
 * station pays.
 * The code strings are made one by one during the fill, as requests would bring them.
 * Median over several children. Run alone: `node dist/bench/status-memory.js [--quick]`.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { StatusService } from '../src/status/status-service.js';
import { childNodeOptions } from './child.js';
import { isMain, median, runAlone, type BenchOptions, type FigureReport } from './report.js';

const TARGET_BYTES = 200;

interface Sample {
  n: number;
  rssBefore: number;
  rssAfter: number;
  heapBefore: number;
  heapAfter: number;
  /** RSS and heap right after construction (empty, preallocated). */
  rssBuilt: number;
  heapBuilt: number;
  fillMs: number;
  size: number;
}

function measureHere(n: number): Sample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('status-memory: run with --expose-gc');
  const settle = () => {
    gc();
    gc();
  };
  const now = Date.now();
  const far = Date.parse('2070-12-31T20:59:59.000Z');
  settle();
  const m0 = process.memoryUsage();
  const status = new StatusService({
    risklessTtlMs: 600_000,
    riskyTtlMs: 21_600_000,
    notFoundTtlMs: 60_000,
    expiredTtlMs: 3_600_000,
    lastKnownMaxAgeMs: 86_400_000,
    maxEntries: n,
    ministry: () => Promise.reject(new Error('not in this benchmark')),
    clock: () => now,
  });
  settle();
  const m1 = process.memoryUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    // 10 upper-case letters/digits, a new flat string each (as a parsed request would give).
    const code = `M${i.toString(36).toUpperCase().padStart(9, '0')}`;
    status.ingest(code, { kind: 'status', status: 'RISKLESS', expiresAt: far }, now - (i % 1000));
  }
  const fillMs = performance.now() - t0;
  settle();
  const m2 = process.memoryUsage();
  return {
    n,
    rssBefore: m0.rss,
    rssAfter: m2.rss,
    heapBefore: m0.heapUsed,
    heapAfter: m2.heapUsed,
    rssBuilt: m1.rss,
    heapBuilt: m1.heapUsed,
    fillMs,
    size: status.size,
  };
}

function measureInChild(n: number): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', String(n)], {
      execArgv: ['--expose-gc', ...childNodeOptions()],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let got: Sample | undefined;
    child.once('message', (m: Sample) => (got = m));
    child.once('error', reject);
    child.once('exit', (code) => (got !== undefined ? resolve(got) : reject(new Error(`status-memory child exited (${code})`))));
  });
}

export async function benchStatusMemory(o: BenchOptions & { entries?: number; runs?: number } = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const n = o.entries ?? (o.quick ? 200_000 : 1_000_000);
  const runs = o.runs ?? (o.quick ? 1 : 3);
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const s = await measureInChild(n);
    samples.push(s);
    console.log(
      `  status memory run ${i + 1}/${runs}: ${s.size} statuses in ${s.fillMs.toFixed(0)} ms; RSS ${((s.rssAfter - s.rssBefore) / n).toFixed(1)} B/status, ` +
        `heapUsed ${((s.heapAfter - s.heapBefore) / n).toFixed(1)} B/status (empty service: RSS ${((s.rssBuilt - s.rssBefore) / 1048576).toFixed(1)} MiB, heap ${((s.heapBuilt - s.heapBefore) / 1048576).toFixed(1)} MiB)`,
    );
  }
  const rssPer = median(samples.map((s) => (s.rssAfter - s.rssBefore) / n));
  const heapPer = median(samples.map((s) => (s.heapAfter - s.heapBefore) / n));
  const emptyRssPer = median(samples.map((s) => (s.rssBuilt - s.rssBefore) / n));
  const emptyHeapPer = median(samples.map((s) => (s.heapBuilt - s.heapBefore) / n));
  console.log(`status memory: ${rssPer.toFixed(1)} B RSS and ${heapPer.toFixed(1)} B heap per cached status (N = ${n.toLocaleString('en-US')}, median of ${runs})`);
  return {
    name: 'status-memory',
    rows: [
      {
        figure: `RSS per cached status (N = ${n.toLocaleString('en-US')})`,
        baseline: '—',
        measured: `${rssPer.toFixed(0)} B (heapUsed ${heapPer.toFixed(0)} B)`,
        target: `≤ ${TARGET_BYTES} B`,
        met: rssPer <= TARGET_BYTES,
      },
    ],
    details: {
      entries: n,
      runs,
      rssPerStatus: rssPer,
      heapUsedPerStatus: heapPer,
      emptyServiceRssPerSlot: emptyRssPer,
      emptyServiceHeapPerSlot: emptyHeapPer,
      samples,
    },
    durationMs: performance.now() - began,
  };
}

if (process.argv[2] === '--child') {
  process.send!(measureHere(Number(process.argv[3])), () => process.exit(0));
} else if (isMain(import.meta.url)) runAlone(benchStatusMemory);
