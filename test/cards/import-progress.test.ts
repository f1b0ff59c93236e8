import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { renderImportProgress } from '../../src/cards/import-progress.js';
import { manualClock } from './helpers.js';

describe('renderImportProgress off a terminal', () => {
  it('writes a plain line at most every interval, and one at the end', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const clock = manualClock();
    const r = renderImportProgress({ stream: out as unknown as NodeJS.WriteStream, plainIntervalMs: 5000, clock: clock.now });
    const p = (linesRead: number) => ({ linesRead, bytesRead: linesRead * 10, totalBytes: 1000, imported: linesRead - 1, rejected: 1 });
    r.onProgress(p(10));
    clock.advance(1000);
    r.onProgress(p(20));
    clock.advance(5000);
    r.onProgress(p(50));
    r.stop();
    expect(text.trim().split('\n')).toEqual([
      'import: 50 lines (50%), 49 imported, 1 rejected',
      'import: 50 lines (50%), 49 imported, 1 rejected',
    ]);
  });
});
