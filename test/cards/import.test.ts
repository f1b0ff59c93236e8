import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCardLines, importCardRecords, importCards, type ImportProgress } from '../../src/cards/import.js';
import { openCardStore } from '../../src/cards/store.js';
import { cardIdFor, codeFor, tempDir } from './helpers.js';

function writeFile(name: string, text: string): string {
  const file = path.join(tempDir('hg-import-'), name);
  fs.writeFileSync(file, text);
  return file;
}

const CSV = [
  'card_id,hes_code,profile', // 1
  '04:a1:b2:c3:d4:e5:f6, a1b2-3456-78 ,student', // 2 ok
  '04A1B2C3D4E5F7,C3D4567890,', // 3 ok, profile → standard
  '04A1B2C3D4E5F,C3D4567890,standard', // 4 odd length
  '04A1B2C3D4E5F8,C3D45,standard', // 5 short code
  '04A1B2C3D4E5F9,C3D4567890,two words', // 6 bad profile
  '"04A1B2C3D4E5FA","E5F6789012","senior"', // 7 ok, quoted
  '', // 8 blank: skipped
  '04A1B2C3D4E5FB', // 9 too few fields
  '04A1B2C3D4E5FC,E5F6789012,standard,extra', // 10 too many fields
  '"04A1B2C3D4E5FD,E5F6789012,standard', // 11 unterminated quote
  '04A1B2C3D4E5FE,E5F6789012', // 12 ok, no profile column value
];

describe('importCards (CSV)', () => {
  it('keeps valid rows and reports rejected ones by line and reason, CRLF tolerated', async () => {
    const store = openCardStore({ dataDir: tempDir() });
    const file = writeFile('cards.csv', CSV.join('\r\n') + '\r\n');
    const report = await importCards({ store, file });
    expect(report).toMatchObject({ format: 'csv', linesRead: 12, imported: 4, created: 4, updated: 0, unchanged: 0, rejected: 6, aborted: false, rejectionsTruncated: false });
    expect(report.rejections).toEqual([
      { line: 4, reason: 'CARD_ID_INVALID' },
      { line: 5, reason: 'HES_CODE_INVALID' },
      { line: 6, reason: 'PROFILE_INVALID' },
      { line: 9, reason: 'MALFORMED_ROW' },
      { line: 10, reason: 'MALFORMED_ROW' },
      { line: 11, reason: 'MALFORMED_ROW' },
    ]);
    expect(report.rejectedByReason).toEqual({ CARD_ID_INVALID: 1, HES_CODE_INVALID: 1, PROFILE_INVALID: 1, MALFORMED_ROW: 3 });
    expect(store.getBinding('04A1B2C3D4E5F6')).toMatchObject({ hesCode: 'A1B2345678', profile: 'student' });
    expect(store.getBinding('04A1B2C3D4E5F7')).toMatchObject({ hesCode: 'C3D4567890', profile: 'standard' });
    expect(store.getBinding('04A1B2C3D4E5FA')).toMatchObject({ hesCode: 'E5F6789012', profile: 'senior' });
    expect(store.getBinding('04A1B2C3D4E5FE')).toMatchObject({ hesCode: 'E5F6789012', profile: 'standard' });
    // Rejections never echo a row's values.
    expect(JSON.stringify(report)).not.toMatch(/04A1B2C3|C3D4|E5F6/);
    store.close();
  });

  it('is idempotent: a re-import changes nothing and says so', async () => {
    const store = openCardStore({ dataDir: tempDir() });
    const rows = ['card_id,hes_code,profile', ...Array.from({ length: 1234 }, (_, i) => `${cardIdFor(i)},${codeFor(i)},standard`)];
    const file = writeFile('cards.csv', rows.join('\n'));
    const first = await importCards({ store, file, batchSize: 100 });
    expect(first).toMatchObject({ imported: 1234, created: 1234, rejected: 0 });
    const before = store.getBinding(cardIdFor(7));
    const second = await importCards({ store, file, batchSize: 100 });
    expect(second).toMatchObject({ imported: 1234, created: 0, updated: 0, unchanged: 1234, rejected: 0 });
    expect(store.getBinding(cardIdFor(7))).toEqual(before);
    expect(store.countBindings()).toBe(1234);
    store.close();
  });

  it('accepts columns in any order with a BOM, and reports progress after each batch', async () => {
    const store = openCardStore({ dataDir: tempDir() });
    const rows = ['\uFEFFHES_CODE, Card_Id', ...Array.from({ length: 25 }, (_, i) => `${codeFor(i)},${cardIdFor(i)}`)];
    const file = writeFile('cards.csv', rows.join('\n'));
    const seen: ImportProgress[] = [];
    const report = await importCards({ store, file, batchSize: 10, onProgress: (p) => seen.push(p) });
    expect(report.imported).toBe(25);
    expect(seen.map((p) => p.imported)).toEqual([10, 20, 25]);
    expect(seen.at(-1)).toMatchObject({ linesRead: 26, totalBytes: fs.statSync(file).size, bytesRead: fs.statSync(file).size });
    store.close();
  });

  it('refuses a file without a header, or of unknown format, or missing', async () => {
    const store = openCardStore({ dataDir: tempDir() });
    await expect(importCards({ store, file: writeFile('x.csv', '04A1B2C3,A1B2345678\n') })).rejects.toMatchObject({ code: 'HG_IMPORT_FILE' });
    await expect(importCards({ store, file: writeFile('x.txt', '') })).rejects.toMatchObject({ code: 'HG_IMPORT_FILE' });
    await expect(importCards({ store, file: path.join(tempDir(), 'none.csv') })).rejects.toMatchObject({ code: 'HG_IMPORT_FILE' });
    store.close();
  });

  it('counts every rejection but lists at most maxRejectionDetails', async () => {
    const store = openCardStore({ dataDir: tempDir() });
    const rows = ['card_id,hes_code', ...Array.from({ length: 50 }, () => 'zz,zz'), `${cardIdFor(1)},${codeFor(1)}`];
    const report = await importCards({ store, file: writeFile('bad.csv', rows.join('\n')), maxRejectionDetails: 10 });
    expect(report).toMatchObject({ imported: 1, rejected: 50, rejectionsTruncated: true });
    expect(report.rejections).toHaveLength(10);
    expect(report.rejections[0]).toEqual({ line: 2, reason: 'CARD_ID_INVALID' });
    store.close();
  });

  it('stops between lines on abort, keeping only whole committed batches', async () => {
    const store = openCardStore({ dataDir: tempDir() });
    const rows = ['card_id,hes_code', ...Array.from({ length: 1000 }, (_, i) => `${cardIdFor(i)},${codeFor(i)}`)];
    const ac = new AbortController();
    const report = await importCards({
      store,
      file: writeFile('cards.csv', rows.join('\n')),
      batchSize: 100,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.imported >= 300) ac.abort();
      },
    });
    expect(report).toMatchObject({ aborted: true, imported: 300 });
    expect(store.countBindings()).toBe(300);
    store.close();
  });
});

describe('importCards (NDJSON) and in-memory imports', () => {
  const NDJSON = [
    '{"cardId":"04A1B2C3D4E5F6","hesCode":"A1B2-3456-78","profile":"student"}', // 1 ok
    '{"cardId":"04A1B2C3D4E5F7","hesCode":"C3D4567890"}', // 2 ok
    '{"cardId":"04A1B2C3D4E5F8","hesCode":"C3D4567890",', // 3 broken JSON
    '[1,2]', // 4 not an object
    '{"cardId":"zz","hesCode":"C3D4567890"}', // 5 bad card
    '{"cardId":"04A1B2C3D4E5F9","hesCode":"C3D4567890","profile":7}', // 6 bad profile
    '', // 7 blank
    '{"card_id":"04A1B2C3D4E5FA","hes_code":"E5F6789012"}', // 8 ok, snake_case
  ];

  it('imports NDJSON files with line numbers and reasons', async () => {
    const store = openCardStore({ dataDir: tempDir() });
    const report = await importCards({ store, file: writeFile('cards.ndjson', NDJSON.join('\n')) });
    expect(report).toMatchObject({ format: 'ndjson', imported: 3, rejected: 4 });
    expect(report.rejections).toEqual([
      { line: 3, reason: 'MALFORMED_ROW' },
      { line: 4, reason: 'MALFORMED_ROW' },
      { line: 5, reason: 'CARD_ID_INVALID' },
      { line: 6, reason: 'PROFILE_INVALID' },
    ]);
    expect(store.getBinding('04A1B2C3D4E5FA')?.hesCode).toBe('E5F6789012');
    store.close();
  });

  it('imports lines in hand and records (a JSON array), journaling a summary', async () => {
    const store = openCardStore({ dataDir: tempDir() });
    const lines = await importCardLines({ store, lines: NDJSON, format: 'ndjson', journalAs: 'admin' });
    expect(lines).toMatchObject({ imported: 3, rejected: 4 });
    const records = importCardRecords({
      store,
      records: [{ cardId: '05000001', hesCode: 'A1B2345678' }, 'nope', { cardId: '05000002', hesCode: 'bad' }],
      journalAs: 'admin',
    });
    expect(records).toMatchObject({ format: 'json', imported: 1, rejected: 2, rejections: [{ line: 2, reason: 'MALFORMED_ROW' }, { line: 3, reason: 'HES_CODE_INVALID' }] });
    const journal = store.readJournal();
    expect(journal.map((e) => [e.who, e.action, e.cardIdMasked])).toEqual([['admin', 'import', null], ['admin', 'import', null]]);
    expect(journal[0]?.detail).toMatchObject({ imported: 1, created: 1, rejected: 2 });
    store.close();
  });
});
