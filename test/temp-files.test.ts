/**
 * Test runs leave nothing in the machine's temp directory: files go under the run's own folder
 * (test/global-setup.ts), which child processes inherit through TMPDIR, and which is removed at
 * the end of the run.
 */
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('temp files of a test run', () => {
  it('go under the run\'s own folder, in tests and in the processes they start', () => {
    expect(basename(tmpdir())).toMatch(/^hes-gate-tests-/);
    expect(execFileSync('sh', ['-c', 'printf %s "$TMPDIR"'], { encoding: 'utf8' })).toBe(tmpdir());
  });
});
