/**
 * Progress of a self-test run, on the operator's terminal while the checks run (a check can
 * wait for the ministry's timeout): on a TTY one line per check that shows it running and is
 * rewritten with its result; elsewhere (logs, CI) plain lines as each check starts and ends.
 */
import type { SelftestOptions } from './runner.js';

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export function progressHooks(out: ProgressStream): Pick<SelftestOptions, 'onCheckStart' | 'onCheckEnd'> {
  const tty = out.isTTY === true;
  const label = (index: number, total: number): string => `[${String(index + 1).padStart(String(total).length)}/${total}]`;
  return {
    onCheckStart: (check, index, total) => {
      out.write(tty ? `${label(index, total)} ....  ${check.title}` : `${label(index, total)} start ${check.id}: ${check.title}\n`);
    },
    onCheckEnd: (result, index, total) => {
      const line = `${label(index, total)} ${result.outcome.padEnd(4)}  ${result.title} (${result.durationMs} ms)`;
      out.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  };
}
