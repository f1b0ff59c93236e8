/**
 * Issue 22: `hes-gate journal export … | head` ended with an unhandled EPIPE stack trace. A reader
 * that closes the pipe early has what it wanted: the command stops quietly, exit 0.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalDb, type PackedEntry } from '../../src/journal/journal-worker.js';
import { startCli } from './cli.js';

const T0 = Date.UTC(2026, 11, 1, 8);

describe('hes-gate journal export into a pipe its reader closes', () => {
  it.each(['ndjson', 'csv'])('%s: stops quietly with exit 0, no EPIPE trace', async (format) => {
    const data = join(mkdtempSync(join(tmpdir(), 'hes-gate-export-pipe-')), 'data');
    mkdirSync(data);
    const db = new JournalDb(join(data, 'journal.db'));
    const rows: PackedEntry[] = Array.from({ length: 50_000 }, (_, i) => [T0 + i, 'N1', null, 'card', 'pass', 'RISKLESS', 'cache', 1200, `0193a1b2-c3d4-7e5f-8a9b-${i.toString(16).padStart(12, '0')}`]);
    db.append(rows);
    db.close();

    const child = startCli(['journal', 'export', '--from', new Date(T0).toISOString(), '--to', new Date(T0 + 86_400_000).toISOString(), '--format', format], { env: { HES_GATE_CONFIG: 'default', HES_GATE_DATA_DIR: data } });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // `head -n 1`: read the first chunk, then close the pipe while the command is still writing.
    const [first] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(first.toString()).toMatch(format === 'csv' ? /^at,station,gate/ : /^\{"at":/);
    child.stdout!.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(stderr).not.toMatch(/EPIPE|^\s+at /m);
    expect(code).toBe(0);
  }, 60_000);
});
