/**
 * `hes-gate cards import` (the built command) against a running service on the same data dir:
 * it shares the store, while the service keeps writing, and names the real cause — the lock,
 * HG_STORE — when it cannot write, never the file. (Before, it failed about 3 times in 5 with
 * SQLITE_BUSY reported as `HG_IMPORT_FILE ... could not be read to the end`.)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { STORE_FILE } from '../../src/cards/store.js';
import { startTestGate } from '../http/helpers.js';
import { cardIdFor, codeFor, tempDir } from './helpers.js';
import { holdWriteLock } from './lock-holder.js';

const MAIN = path.resolve('dist/src/cli/main.js');
const AUTH = { authorization: 'Bearer admin-token-1', 'content-type': 'application/json' };

function csv(rows: number): string {
  const file = path.join(tempDir(), 'cards.csv');
  const lines = ['card_id,hes_code,profile'];
  for (let i = 0; i < rows; i++) lines.push(`${cardIdFor(i)},${codeFor(i)},standard`);
  writeFileSync(file, lines.join('\n'));
  return file;
}

async function cli(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, 'cards', 'import', ...args], {
    env: { ...process.env, HES_GATE_DATA_DIR: dataDir, HES_GATE_CONFIG: 'default', HES_GATE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe.skipIf(!existsSync(MAIN))('hes-gate cards import against a running service', () => {
  it('imports while the service writes (admin changes), and the service sees the bindings', async () => {
    const t = await startTestGate({ refresher: { enabled: false } }, { HES_GATE_ADMIN_TOKEN: 'admin-token-1' });
    try {
      const rows = 20_000;
      const file = csv(rows);
      const run = cli(t.gate.config.dataDir, [file, '--batch-size', '200', '--json']);
      // Keep the service's writer busy for as long as the command runs: each PUT is a commit
      // that, before the fix, invalidated the command's read snapshot inside its batch.
      let finished = false;
      void run.then(() => (finished = true));
      let puts = 0;
      while (!finished) {
        const res = await fetch(`${t.url}/v1/cards/05${puts.toString(16).toUpperCase().padStart(8, '0')}`, { method: 'PUT', headers: AUTH, body: JSON.stringify({ hesCode: SAMPLE.RISKLESS }) });
        expect(res.status).toBe(201);
        puts++;
      }
      const { code, stdout, stderr } = await run;
      expect(stderr).not.toMatch(/HG_IMPORT_FILE|HG_STORE/);
      expect(code, stderr).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ imported: rows, created: rows, rejected: 0, aborted: false });
      expect(puts).toBeGreaterThan(0);
      expect(await t.gate.cards.countBindings()).toBe(rows + puts);
      expect(t.gate.cards.bindingCount).toBe(rows + puts);
      // A card of the file is decided from the service's store at once.
      expect((await t.post({ gate: 'G1', card: cardIdFor(rows - 1) })).body.reason).not.toBe('CARD_UNBOUND');
    } finally {
      await t.gate.close();
    }
  }, 120_000);

  it('reports a lock it cannot get as HG_STORE, keeping what it committed', async () => {
    const t = await startTestGate({ refresher: { enabled: false } }, { HES_GATE_ADMIN_TOKEN: 'admin-token-1' });
    const holder = await holdWriteLock(path.join(t.gate.config.dataDir, STORE_FILE));
    try {
      const { code, stderr } = await cli(t.gate.config.dataDir, [csv(100), '--lock-wait-ms', '200']);
      expect(code).toBe(2);
      expect(stderr).toMatch(/HG_STORE: The card store is locked by another writer \(waited 200 ms/);
      expect(stderr).toMatch(/run the import again/);
      expect(stderr).not.toMatch(/HG_IMPORT_FILE/);
    } finally {
      await holder.release();
      await t.gate.close();
    }
  }, 60_000);
});
