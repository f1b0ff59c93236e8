/**
 * Where the event loop stalled: reads a V8 CPU profile (`node --cpu-prof`) and lists every
 * stretch of the main thread's time without an `(idle)` sample that lasted at least a threshold,
 * with the functions that ran in it (self samples, and the nearest project frame), longest first.
 * A stretch is one turn of the event loop or several back to back; either way no timer ran.
 *
 * On a shared machine a stretch also contains time the thread was not running at all: it shows
 * as one long gap between two samples. `ownMs` leaves out gaps over GAP_MS, so stretches are
 * ranked by the thread's own work, which the machine's load does not inflate (much).
 *
 *   node dist/bench/stall-profile.js <file.cpuprofile> [thresholdMs=8] [stretches=15]
 *
 * Used with the no-stall figure: `BENCH_CHILD_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof
 * --cpu-prof-interval=250" node dist/bench/no-stall.js --only=idle,rotation`.
 */
import { readFileSync } from 'node:fs';
import { isMain } from './report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A gap between two samples longer than this is time the thread did not run (profile interval ≤ 1 ms). */
const GAP_MS = 5;

export interface Stretch {
  startMs: number;
  durationMs: number;
  /** The duration less the gaps over GAP_MS: the thread's own work. */
  ownMs: number;
  /** Largest gap between two samples inside it (a descheduled thread shows as one big gap), ms. */
  maxGapMs: number;
  /** Self time by function, ms, most first. */
  top: Array<[string, number]>;
  /** Time by nearest frame of the project's own code (src/), ms, most first. */
  project: Array<[string, number]>;
}

const frameName = (n: ProfileNode): string => {
  const f = n.callFrame;
  const file = f.url === '' ? '' : ` ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
  return `${f.functionName === '' ? '(anonymous)' : f.functionName}${file}`;
};

export function stretches(p: Profile, thresholdMs: number): Stretch[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const projectFrame = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (n.callFrame.url.includes('/dist/src/')) return frameName(n);
    }
    return frameName(byId.get(id)!);
  };
  const out: Stretch[] = [];
  let t = p.startTime;
  let run: { start: number; last: number; maxGap: number; gaps: number; self: Map<string, number>; project: Map<string, number> } | undefined;
  const close = (end: number): void => {
    if (run === undefined) return;
    const durationMs = (end - run.start) / 1000;
    if (durationMs >= thresholdMs) {
      const sort = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => [k, v / 1000]);
      out.push({ startMs: (run.start - p.startTime) / 1000, durationMs, ownMs: durationMs - run.gaps / 1000, maxGapMs: run.maxGap / 1000, top: sort(run.self), project: sort(run.project) });
    }
    run = undefined;
  };
  for (let i = 0; i < p.samples.length; i++) {
    const delta = p.timeDeltas[i] ?? 0;
    t += delta;
    const node = byId.get(p.samples[i]!)!;
    if (node.callFrame.functionName === '(idle)') {
      close(t);
      continue;
    }
    run ??= { start: t, last: t, maxGap: 0, gaps: 0, self: new Map(), project: new Map() };
    // The time since the previous sample is charged to this one (V8 samples at the interval's end).
    const weight = t - run.last > 0 ? t - run.last : 0;
    run.maxGap = Math.max(run.maxGap, weight);
    if (weight > GAP_MS * 1000) run.gaps += weight;
    run.last = t;
    const name = frameName(node);
    run.self.set(name, (run.self.get(name) ?? 0) + weight);
    const proj = projectFrame(node.id);
    run.project.set(proj, (run.project.get(proj) ?? 0) + weight);
  }
  close(t);
  return out.sort((a, b) => b.ownMs - a.ownMs);
}

if (isMain(import.meta.url)) {
  const [file, threshold = '8', count = '15'] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: node dist/bench/stall-profile.js <file.cpuprofile> [thresholdMs] [stretches]');
    process.exitCode = 2;
  } else {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const all = stretches(p, Number(threshold)).filter((s) => s.ownMs >= Number(threshold));
    console.log(`${file}: ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s profiled, ${all.length} stretches ≥ ${threshold} ms without idle`);
    for (const s of all.slice(0, Number(count))) {
      console.log(`\n${s.ownMs.toFixed(1)} ms own work in ${s.durationMs.toFixed(1)} ms at ${(s.startMs / 1000).toFixed(3)} s (largest sample gap ${s.maxGapMs.toFixed(1)} ms)`);
      for (const [k, v] of s.top) console.log(`   self ${v.toFixed(1).padStart(6)} ms  ${k}`);
      for (const [k, v] of s.project) console.log(`   in   ${v.toFixed(1).padStart(6)} ms  ${k}`);
    }
  }
}
