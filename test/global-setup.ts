/**
 * Every file a test run writes to the temp directory goes under one folder of its own, removed
 * when the run ends: tests (and the servers, shells and browsers they start, which inherit
 * TMPDIR) call os.tmpdir() and find it there. Without it each run left ~180 folders in /tmp.
 * HES_GATE_KEEP_TEST_FILES=1 keeps the folder (its path is printed) to look at after a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'hes-gate-tests-'));
  process.env['TMPDIR'] = dir;
  return () => {
    if (process.env['HES_GATE_KEEP_TEST_FILES'] === '1') {
      process.stdout.write(`test files kept in ${dir}\n`);
      return;
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
