/**
 * How the command line shows an import's progress: a bar when stderr is a terminal, a plain
 * line every few seconds otherwise (logs, CI). `importCards` only reports numbers; this is the
 * one place that draws them.
 */
import cliProgress from 'cli-progress';
import type { ImportProgress } from './import.js';

export interface ProgressRenderer {
  /** Pass as `importCards({ onProgress })`. */
  onProgress(p: ImportProgress): void;
  /** Draw the final state and release the terminal. */
  stop(): void;
}

export interface RenderOptions {
  /** @default process.stderr */
  stream?: NodeJS.WriteStream;
  /** Minimum time between plain lines when not on a terminal. @default 5000 */
  plainIntervalMs?: number;
  /** @default Date.now */
  clock?: () => number;
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

export function renderImportProgress(options: RenderOptions = {}): ProgressRenderer {
  const stream = options.stream ?? process.stderr;
  const clock = options.clock ?? Date.now;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'import [{bar}] {percentage}% | {mibRead}/{mibTotal} MiB | {imported} imported, {rejected} rejected | eta {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let last: ImportProgress | undefined;
    return {
      onProgress(p) {
        last = p;
        const payload = { mibRead: mib(p.bytesRead), mibTotal: mib(p.totalBytes), imported: p.imported, rejected: p.rejected };
        if (!started) {
          bar.start(Math.max(p.totalBytes, 1), 0, payload);
          started = true;
        }
        bar.update(Math.min(p.bytesRead, Math.max(p.totalBytes, 1)), payload);
      },
      stop() {
        if (started && last !== undefined) bar.update(Math.max(last.totalBytes, 1));
        if (started) bar.stop();
      },
    };
  }
  const interval = options.plainIntervalMs ?? 5000;
  let lastAt = clock();
  let last: ImportProgress | undefined;
  const line = (p: ImportProgress): void => {
    const pct = p.totalBytes > 0 ? ` (${Math.floor((100 * p.bytesRead) / p.totalBytes)}%)` : '';
    stream.write(`import: ${p.linesRead} lines${pct}, ${p.imported} imported, ${p.rejected} rejected\n`);
  };
  return {
    onProgress(p) {
      last = p;
      const now = clock();
      if (now - lastAt >= interval) {
        lastAt = now;
        line(p);
      }
    },
    stop() {
      if (last !== undefined) line(last);
    },
  };
}
