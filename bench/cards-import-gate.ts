/**
 * The gate under test of bench/cards-import-taps.ts, in its own process: a whole hes-gate with
 * its embedded simulator, an admin token, the refresher off, and the event-loop delay of its
 * main thread measured (perf_hooks.monitorEventLoopDelay) and reported over IPC.
 *
 *   parent ── {cmd: 'reset'} ─> clears the delay histogram
 *          ── {cmd: 'delay'} ─> {maxMs, p99Ms}
 *          ── {cmd: 'close'} ─> closes the gate and exits
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startHesGate } from '../src/hes-gate.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/ops/logger.js';

export const ADMIN_TOKEN = 'bench-admin-token';

const dataDir = mkdtempSync(join(tmpdir(), 'hg-bench-import-gate-'));
const loaded = loadConfig({
  noFile: true,
  env: { HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir, HES_GATE_ADMIN_TOKEN: ADMIN_TOKEN },
  overrides: { refresher: { enabled: false }, cache: { maxEntries: 10_000 } },
});
const gate = await startHesGate(loaded, { logger: createLogger('silent') });
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'reset') {
    delay.reset();
    process.send!({ cmd: 'reset' });
  } else if (m.cmd === 'delay') {
    process.send!({ cmd: 'delay', maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6 });
  } else if (m.cmd === 'close') {
    void gate.close().then(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
process.send!({ cmd: 'ready', url: gate.url });
