import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCardStore, STORE_FILE } from '../../src/cards/store.js';
import { cardIdFor, codeFor, tempDir } from './helpers.js';
import { transpileTree } from './transpile.js';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'import-child.mjs');
const ROWS = 300_000;
const BATCH = 1000;

describe('an import killed with SIGKILL', () => {
  let buildDir: string;
  let csv: string;

  beforeAll(() => {
    buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-cards-build-'));
    transpileTree(['src/cards/store.ts', 'src/cards/import.ts'], buildDir);
    csv = path.join(buildDir, 'cards.csv');
    const out: string[] = ['card_id,hes_code,profile'];
    for (let i = 0; i < ROWS; i++) out.push(`${cardIdFor(i)},${codeFor(i)},standard`);
    fs.writeFileSync(csv, out.join('\n'));
    return () => fs.rmSync(buildDir, { recursive: true, force: true });
  });

  it('leaves a store that opens cleanly with whole batches only', async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, [CHILD, buildDir, dataDir, csv, String(BATCH)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));

    let lastReported = 0;
    for await (const line of readline.createInterface({ input: child.stdout })) {
      const m = /^progress (\d+)$/.exec(line);
      if (m !== null) lastReported = Number(m[1]);
      if (lastReported >= 5 * BATCH) {
        child.kill('SIGKILL');
        break;
      }
      if (line.startsWith('done')) break;
    }
    expect(await exited, stderr).toBe('SIGKILL');

    const db = new Database(path.join(dataDir, STORE_FILE));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const store = openCardStore({ dataDir });
    const count = store.countBindings();
    expect(count % BATCH).toBe(0);
    expect(count).toBeGreaterThanOrEqual(lastReported);
    expect(count).toBeLessThan(ROWS);
    store.close();
  });
});
