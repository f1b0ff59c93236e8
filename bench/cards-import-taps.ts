/**
 * Taps during a big card import over the admin API, next to the same taps on the idle station
 * (same run, same gate):
 *
 *   fork the gate (cards-import-gate.ts) ─> bind + warm one card
 *     ─> idle:   open-loop card taps at RATE/s for IDLE_S          ─┐ latency from intended send,
 *     ─> import: the same taps while N rows go to POST /v1/cards/import, event-loop delay max
 *                (CSV bodies of ≤ 16 MiB, one after the other)    ─┘ (measured in the gate)
 *
 * Figures: share of taps answered within deadline + 5 ms, the worst tap, the gate's largest
 * event-loop delay. Run alone: `node dist/bench/cards-import-taps.js [--quick]` (quick: 200k rows).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { SAMPLE } from '../src/simulator/index.js';
import { openLoop } from './open-loop.js';
import { isMain, runAlone, type BenchOptions, type FigureReport, type Row } from './report.js';

const ADMIN_TOKEN = 'bench-admin-token';
const DEADLINE_MS = 150;
const RATE = 200;
const CARD = '04A1B2C3D4E5F6';
const ROWS_PER_BODY = 500_000;

interface Gate {
  url: string;
  ask<T>(cmd: string): Promise<T>;
  close(): Promise<void>;
}

async function startGate(): Promise<Gate> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./cards-import-gate.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--disable-warning=FSTDEP023'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the gate exited (${code}) before it was ready`)));
    child.once('message', (m: { url: string }) => resolve(m.url));
  });
  return {
    url,
    ask: <T>(cmd: string) => new Promise<T>((resolve) => {
      child.once('message', (m: T) => resolve(m));
      child.send({ cmd });
    }),
    close: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.send({ cmd: 'close' });
    }),
  };
}

function writeBodies(dir: string, rows: number): string[] {
  const files: string[] = [];
  for (let start = 0; start < rows; start += ROWS_PER_BODY) {
    const file = path.join(dir, `cards-${files.length}.csv`);
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, 'card_id,hes_code\n');
    for (let s = start; s < Math.min(rows, start + ROWS_PER_BODY); s += 10_000) {
      let text = '';
      for (let i = s; i < Math.min(rows, start + ROWS_PER_BODY, s + 10_000); i++) {
        text += `05${i.toString(16).toUpperCase().padStart(12, '0')},${i % 2 === 0 ? SAMPLE.RISKLESS : SAMPLE.RISKY}\n`;
      }
      fs.writeSync(fd, text);
    }
    fs.closeSync(fd);
    files.push(file);
  }
  return files;
}

function postFile(url: string, file: string): Promise<{ imported: number }> {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv', 'content-length': fs.statSync(file).size };
    const req = http.request(`${url}/v1/cards/import`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as { imported: number }) : reject(new Error(`import answered ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    fs.createReadStream(file).pipe(req);
  });
}

interface Phase {
  taps: number;
  withinShare: number;
  worstMs: number;
  nonPass: number;
  loopMaxMs: number;
  loopP99Ms: number;
}

/** Open-loop taps in 1 s slices until `until` settles (at least one slice). */
async function tapsUntil(gate: Gate, pool: Pool, until: Promise<unknown>): Promise<Phase> {
  let settled = false;
  void until.finally(() => (settled = true)).catch(() => undefined);
  const latencies: number[] = [];
  let nonPass = 0;
  await gate.ask('reset');
  do {
    await openLoop({
      url: gate.url, path: '/v1/decisions', rate: RATE, durationMs: 1000, connections: 16, pool,
      body: () => JSON.stringify({ gate: 'G1', card: CARD }),
      onAnswer: (status, text, ms) => {
        latencies.push(ms);
        if (status !== 200 || !text.includes('"pass"')) nonPass++;
      },
    });
  } while (!settled);
  const d = await gate.ask<{ maxMs: number; p99Ms: number }>('delay');
  return {
    taps: latencies.length,
    withinShare: latencies.filter((ms) => ms <= DEADLINE_MS + 5).length / Math.max(1, latencies.length),
    worstMs: Math.max(...latencies),
    nonPass,
    loopMaxMs: d.maxMs,
    loopP99Ms: d.p99Ms,
  };
}

export async function benchCardsImportTaps(o: BenchOptions & { rows?: number; idleS?: number } = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const rows = o.rows ?? (o.quick ? 200_000 : 1_000_000);
  const idleMs = (o.idleS ?? (o.quick ? 3 : 10)) * 1000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-bench-import-taps-'));
  const gate = await startGate();
  const pool = new Pool(gate.url, { connections: 16, pipelining: 1 });
  try {
    const files = writeBodies(dir, rows);
    const put = await fetch(`${gate.url}/v1/cards/${CARD}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode: SAMPLE.RISKLESS }) });
    if (put.status !== 201) throw new Error(`binding the tap card answered ${put.status}`);
    for (let i = 0; i < 50; i++) await (await fetch(`${gate.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gate: 'G1', card: CARD }) })).text();

    // Warm-up at the full rate (JIT, connections, the gate's start-up garbage), not counted.
    await tapsUntil(gate, pool, new Promise((resolve) => setTimeout(resolve, 2000)));
    const idle = await tapsUntil(gate, pool, new Promise((resolve) => setTimeout(resolve, idleMs)));
    const t0 = performance.now();
    const importing = (async () => {
      let imported = 0;
      for (const f of files) imported += (await postFile(gate.url, f)).imported;
      return imported;
    })();
    const during = await tapsUntil(gate, pool, importing);
    const imported = await importing;
    const importMs = performance.now() - t0;
    if (imported !== rows) throw new Error(`imported ${imported} of ${rows} rows`);

    const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
    const label = rows.toLocaleString('en-US');
    const rowsOut: Row[] = [
      { figure: `import-taps: taps within deadline + 5 ms during a ${label}-row API import (${RATE}/s)`, baseline: `idle ${pct(idle.withinShare)} of ${idle.taps}`, measured: `${pct(during.withinShare)} of ${during.taps}`, target: '100 %', met: during.withinShare === 1 && during.nonPass === 0 },
      { figure: '  same, worst tap (from intended send)', baseline: `idle ${idle.worstMs.toFixed(1)} ms`, measured: `${during.worstMs.toFixed(1)} ms`, target: `≤ ${DEADLINE_MS + 5} ms`, met: during.worstMs <= DEADLINE_MS + 5 },
      { figure: '  same, gate event-loop delay max (p99)', baseline: `idle ${idle.loopMaxMs.toFixed(1)} ms (${idle.loopP99Ms.toFixed(1)})`, measured: `${during.loopMaxMs.toFixed(1)} ms (${during.loopP99Ms.toFixed(1)})`, target: '≤ 20 ms', met: during.loopMaxMs <= 20 },
      { figure: '  same, import duration', baseline: '—', measured: `${(importMs / 1000).toFixed(1)} s (${Math.round(rows / (importMs / 1000)).toLocaleString('en-US')} rows/s)`, target: '—', met: null },
    ];
    return { name: 'cards-import-taps', rows: rowsOut, details: { rows, rate: RATE, idle, during, importMs: Math.round(importMs), loadavg: os.loadavg() }, durationMs: performance.now() - began };
  } finally {
    await pool.close();
    await gate.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) runAlone(benchCardsImportTaps);
