/**
 * The background threads yield the CPU to the thread that answers taps: the card store's writer
 * and the decision journal's writer run at a nice value 10 above the process's (Linux keeps a
 * nice value per thread), the main thread stays where it was. Read from /proc, by thread name.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStationStore } from '../../src/cards/station-store.js';
import { Journal } from '../../src/journal/journal.js';

const onLinux = process.platform === 'linux';

/** Nice value of every thread of this process, by its name (as `top -H` shows it: 15 characters). */
function threadNice(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after "(comm) ": state is field 3, nice is field 19.
      const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      out.set(name, [...(out.get(name) ?? []), nice]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'hes-gate-priority-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(onLinux)('background threads', () => {
  it('run at nice +10 (card store writer, decision journal), the tap thread unchanged', async () => {
    const base = os.getPriority(0);
    const store = await openStationStore({ dataDir: join(dir, 'data') });
    const journal = new Journal({ file: join(dir, 'journal.db'), clock: () => Date.now(), retentionMs: 86_400_000, maxBytes: 1 << 26 });
    try {
      await journal.ready;
      const nice = threadNice();
      const expected = Math.min(19, base + 10);
      expect(nice.get('hes-gate card s'), 'the card store worker thread').toEqual([expected]);
      expect(nice.get('hes-gate journa'), 'the journal worker thread').toEqual([expected]);
      expect(os.getPriority(0), 'the thread that answers taps').toBe(base);
    } finally {
      await journal.close();
      await store.close();
    }
  });
});
