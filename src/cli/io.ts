/** What a command writes to and reads from its surroundings: tests pass their own; the command line leaves it out. */
import type { ProgressStream } from '../selftest/progress.js';
import type { Clock } from '../types.js';

export interface CliIo {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default process.stdout */
  stdout?: ProgressStream;
  /** @default process.stderr */
  stderr?: ProgressStream;
  /** @default process.cwd() */
  cwd?: string;
  /** @default Date.now */
  clock?: Clock;
}
