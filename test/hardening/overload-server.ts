/**
 * A whole hes-gate in a process of its own for the overload tests (the test process's heap,
 * vitest's, would put its garbage collections into the service's timings). argv[2] is a JSON
 * object: {overrides, env, faults}. Prints `{"url": …}` once listening; exits on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { startHesGate } from '../../src/hes-gate.js';
import { createLogger } from '../../src/ops/logger.js';
import type { Faults } from '../../src/simulator/index.js';

const arg = JSON.parse(process.argv[2] ?? '{}') as { overrides?: Record<string, unknown>; env?: Record<string, string>; faults?: Partial<Faults> };
const dataDir = mkdtempSync(join(tmpdir(), 'hg-overload-'));
const loaded = loadConfig({ noFile: true, env: { HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir, ...arg.env }, overrides: arg.overrides ?? {} });
const gate = await startHesGate(loaded, { logger: createLogger('warn') });
if (arg.faults !== undefined) gate.simulator?.setFaults(arg.faults);
process.stdout.write(`${JSON.stringify({ url: gate.url })}\n`);
process.once('SIGTERM', () => {
  void gate.close().finally(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
