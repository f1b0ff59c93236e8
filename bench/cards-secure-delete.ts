/**
 * What a deletion that deletes costs an import: the same CSV imported into a store with SQLite's
 * `secure_delete` on (the product) and off, in alternating rounds of the same run; then a
 * re-import with every code changed (each row an update, whose old cell is zeroed) and the
 * deletion of every binding.
 *
 *   node dist/bench/cards-secure-delete.js [--rows N] [--rounds R] [--dir DIR]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importCards } from '../src/cards/import.js';
import { openCardStore } from '../src/cards/store.js';
import { rowFor, writeCsv } from './cards.js';

type Mode = 'on' | 'off';
interface Times {
  insert: number[];
  update: number[];
  delete: number[];
}

async function writeChangedCsv(file: string, n: number): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('card_id,hes_code,profile\n');
  for (let i = 0; i < n; i++) {
    const { cardId, hesCode } = rowFor(i);
    out.write(`${cardId},${hesCode.slice(1)}${hesCode[0] === 'Z' ? 'A' : 'Z'},standard\n`);
  }
  await new Promise<void>((resolve, reject) => out.end(() => resolve()).on('error', reject));
}

export async function benchSecureDelete(rows = 200_000, rounds = 2, dir?: string): Promise<Record<Mode, Times>> {
  const base = fs.mkdtempSync(path.join(dir ?? os.tmpdir(), 'hg-bench-secure-delete-'));
  const first = path.join(base, 'cards.csv');
  const changed = path.join(base, 'changed.csv');
  await writeCsv(first, rows);
  await writeChangedCsv(changed, rows);
  const times: Record<Mode, Times> = { on: { insert: [], update: [], delete: [] }, off: { insert: [], update: [], delete: [] } };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of (r % 2 === 0 ? ['on', 'off'] : ['off', 'on']) as Mode[]) {
        const dataDir = path.join(base, `${mode}-${r}`);
        const store = openCardStore({ dataDir, secureDelete: mode === 'on' });
        try {
          let t = performance.now();
          await importCards({ store, file: first });
          times[mode].insert.push(performance.now() - t);
          t = performance.now();
          await importCards({ store, file: changed });
          times[mode].update.push(performance.now() - t);
          t = performance.now();
          for (let i = 0; i < rows; i += 5000) {
            const ids = Array.from({ length: Math.min(5000, rows - i) }, (_, k) => rowFor(i + k).cardId);
            for (const id of ids) store.deleteBinding(id);
          }
          store.wipeDeleted();
          times[mode].delete.push(performance.now() - t);
        } finally {
          store.close();
          fs.rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
  return times;
}

const isMain = process.argv[1] !== undefined && import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const rows = Number(arg('--rows') ?? 200_000);
  const t = await benchSecureDelete(rows, Number(arg('--rounds') ?? 2), arg('--dir'));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rate = (xs: number[]): string => `${Math.round(rows / (median(xs) / 1000)).toLocaleString('en-US')} rows/s`;
  console.log(`${rows.toLocaleString('en-US')} rows, ${t.on.insert.length} rounds of each, alternating, median`);
  console.log('step                            secure_delete off    secure_delete on     on/off');
  for (const step of ['insert', 'update', 'delete'] as const) {
    const label = step === 'insert' ? 'import (new bindings)' : step === 'update' ? 're-import (every code changed)' : 'delete every binding';
    console.log(`${label.padEnd(32)}${rate(t.off[step]).padEnd(21)}${rate(t.on[step]).padEnd(21)}${(median(t.on[step]) / median(t.off[step])).toFixed(2)}×`);
  }
}
