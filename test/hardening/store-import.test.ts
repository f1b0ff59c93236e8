/**
 * A big card import over the admin API must not stop the gates: taps sent at a steady rate
 * during it are answered on time, and the event loop never stalls. (Before the store's writes
 * moved to a worker, a 200k-row import held the event loop for seconds.)
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from '../http/helpers.js';
import { cardIdFor, codeFor, tempDir } from '../cards/helpers.js';
import { tapsDuring } from '../cards/open-loop-taps.js';

const ROWS = 200_000;
const DEADLINE_MS = 150;
const PERIOD_MS = 50;
/**
 * Bounds that hold on a busy shared machine (a load average of 15-20 on 2 cores while the whole
 * suite runs, when a 35 s import meets the odd scheduling hiccup of several hundred ms): fixed
 * figures, or three times what the idle station shows in the same run when the machine is
 * slower than that. Before the fix, the import held the event loop for the whole import (5 s
 * for these rows), so every tap during it was seconds late.
 */
/** Most taps: the deadline plus a slack for a busy machine's scheduling. */
const SLACK_MS = 500;
const WITHIN_SHARE = 0.99;
/** Every tap, and the event loop: far below a stall of the old kind (seconds, the whole write). */
const STALL_MS = 2000;
const AUTH = { authorization: 'Bearer admin-token-1' };

describe('taps during a 200k-row import over the admin API', () => {
  it('are answered within the deadline + slack, and the event loop does not stall', async () => {
    const file = writeImportFile(ROWS);
    const t = await startTestGate({ refresher: { enabled: false } }, { HES_GATE_ADMIN_TOKEN: 'admin-token-1' });
    try {
      const card = '04A1B2C3D4E5F6';
      const put = await fetch(`${t.url}/v1/cards/${card}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode: SAMPLE.RISKLESS }) });
      expect(put.status).toBe(201);
      // Warm: the first tap starts the ministry call (its answer may miss the deadline on a busy
      // machine); once it is in, taps are cache hits.
      await t.post({ gate: 'G1', card });
      await t.gate.status.drain();
      for (let i = 0; i < 20; i++) expect((await t.post({ gate: 'G1', card })).body).toMatchObject({ verdict: 'pass', source: 'cache' });

      const tap = { gate: 'G1', card };
      // The same taps on the idle station first: the machine's own noise, measured in this run.
      const idle = await tapsDuring(t.url, tap, PERIOD_MS, () => new Promise((resolve) => setTimeout(resolve, 2000)));
      const run = await tapsDuring(t.url, tap, PERIOD_MS, () => postFile(`${t.url}/v1/cards/import`, file));
      expect(run.result.status).toBe(200);
      expect(run.result.report).toMatchObject({ imported: ROWS, rejected: 0 });
      expect(await t.gate.cards.countBindings()).toBe(ROWS + 1);

      expect(run.statuses.every((s) => s === 200)).toBe(true);
      expect(run.verdicts.every((v) => v === 'pass')).toBe(true);
      const idleWorst = Math.max(...idle.lateMs);
      const worst = Math.max(...run.lateMs);
      const bound = DEADLINE_MS + Math.max(SLACK_MS, 3 * idleWorst);
      const loopBound = Math.max(STALL_MS, 3 * idle.loopDelayMaxMs);
      const within = run.lateMs.filter((ms) => ms <= bound).length / run.lateMs.length;
      const summary = `${run.lateMs.length} taps during the import: worst ${worst.toFixed(0)} ms after the intended send (${(100 * within).toFixed(1)} % within ${bound.toFixed(0)}), loop delay max ${run.loopDelayMaxMs.toFixed(0)} ms (bound ${loopBound.toFixed(0)}); idle: worst ${idleWorst.toFixed(0)} ms, loop ${idle.loopDelayMaxMs.toFixed(0)} ms`;
      console.log(`store-import: ${summary}`);
      expect(within, summary).toBeGreaterThanOrEqual(WITHIN_SHARE);
      expect(worst, summary).toBeLessThanOrEqual(DEADLINE_MS + Math.max(STALL_MS, 3 * idleWorst));
      expect(run.loopDelayMaxMs, summary).toBeLessThanOrEqual(loopBound);
      // The import lasted long enough for the taps to mean something.
      expect(run.lateMs.length).toBeGreaterThanOrEqual(10);
    } finally {
      await t.gate.close();
    }
  }, 120_000);
});

/** An NDJSON file of `rows` bindings, written in slices (little garbage left for the timed part). */
function writeImportFile(rows: number): string {
  const file = path.join(tempDir(), 'cards.ndjson');
  const fd = fs.openSync(file, 'w');
  for (let start = 0; start < rows; start += 10_000) {
    let text = '';
    for (let i = start; i < Math.min(rows, start + 10_000); i++) text += `{"cardId":"${cardIdFor(i)}","hesCode":"${codeFor(i)}"}\n`;
    fs.writeSync(fd, text);
  }
  fs.closeSync(fd);
  expect(fs.statSync(file).size).toBeLessThan(16 * 1024 * 1024);
  return file;
}

/**
 * Stream a file as the request body, as curl would: the client's own event loop does a 64 KiB
 * write at a time (fetch with a 14 MB string body holds this process's loop for ~0.5 s itself).
 */
function postFile(url: string, file: string): Promise<{ status: number; report: { imported: number; rejected: number } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/x-ndjson', 'content-length': fs.statSync(file).size } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, report: JSON.parse(text) as { imported: number; rejected: number } }));
      res.on('error', reject);
    });
    req.on('error', reject);
    fs.createReadStream(file).pipe(req);
  });
}
