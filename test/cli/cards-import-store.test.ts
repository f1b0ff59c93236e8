/**
 * Issue 22: `hes-gate cards import` run without the service's environment used to create
 * `./data/hes-gate.db` in the shell's directory and print only `store: 3 bindings`. It now names
 * the store it wrote to and where its data directory came from, takes `--data-dir` like
 * `store *`, and refuses to start a new store unless `--create` says so.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'hes-gate-cards-import-'));
const csv = join(dir, 'cards.csv');
writeFileSync(csv, 'card_id,hes_code,profile\n04AA000001,A1B2345678,standard\n04AA000002,C3D4567890,standard\n04AA000003,E5F6789012,student\n');

describe('hes-gate cards import: which store', () => {
  it('refuses to create ./data/hes-gate.db where the shell happens to be, naming the path and the way out', async () => {
    const cwd = mkdtempSync(join(dir, 'shell-'));
    const r = await runCli(['cards', 'import', csv], { cwd, env: { HES_GATE_CONFIG: 'default' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^hes-gate: HG_STORE: there is no card store at ${join(cwd, 'data', 'hes-gate.db')} \\(data dir from file .*default\\.json\\): name the station's data directory with --data-dir .* or pass --create`));
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('--data-dir with --create starts a store and says where; later imports find it without --create', async () => {
    const data = join(dir, 'station-data');
    const first = await runCli(['cards', 'import', csv, '--data-dir', data, '--create'], { env: { HES_GATE_CONFIG: 'default' } });
    expect(first.stderr).not.toMatch(/HG_/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^store: ${join(data, 'hes-gate.db')} \\(data dir from --data-dir\\): 3 bindings$`, 'm'));
    const again = await runCli(['cards', 'import', csv, '--json'], { env: { HES_GATE_CONFIG: 'default', HES_GATE_DATA_DIR: data } });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 3, unchanged: 3, store: join(data, 'hes-gate.db') });
    const plain = await runCli(['cards', 'import', csv], { env: { HES_GATE_CONFIG: 'default', HES_GATE_DATA_DIR: data } });
    expect(plain.stdout).toMatch(/^store: .*hes-gate\.db \(data dir from env HES_GATE_DATA_DIR\): 3 bindings$/m);
  });
});
