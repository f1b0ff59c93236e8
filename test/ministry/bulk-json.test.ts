/**
 * The bulk answer's scanner (bulk-json.ts) against JSON.parse: whenever it accepts a text, its
 * maps are what JSON.parse gives; on anything it does not expect it declines (undefined) and the
 * caller falls back to JSON.parse. Generated answers (fast-check, seeded) with odd spacing,
 * escapes, nested values, duplicate keys, extra keys, and corrupted copies of them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanBulkAnswer } from '../../src/ministry/bulk-json.js';
import { parseBulkOk } from '../../src/ministry/parse.js';
import type { BulkResult } from '../../src/ministry/types.js';

const SEED = 20261130;

/** What the scanner must agree with: the maps as JSON.parse reads them (null or missing: absent). */
function byJsonParse(text: string): { success: Map<string, unknown> | undefined; unsuccess: Map<string, unknown> | undefined } | 'not-a-bulk-object' {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'not-a-bulk-object';
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'not-a-bulk-object';
  const r = raw as Record<string, unknown>;
  const map = (v: unknown): Map<string, unknown> | undefined | 'bad' =>
    v === undefined || v === null ? undefined : typeof v === 'object' && !Array.isArray(v) ? new Map(Object.entries(v as object)) : 'bad';
  const success = map(r['success_map']);
  const unsuccess = map(r['unsuccess_map']);
  if (success === 'bad' || unsuccess === 'bad') return 'not-a-bulk-object';
  return { success, unsuccess };
}

function agrees(text: string): void {
  const scanned = scanBulkAnswer(text);
  if (scanned === undefined) return; // declined: the caller uses JSON.parse
  const expected = byJsonParse(text);
  expect(expected).not.toBe('not-a-bulk-object');
  expect(scanned).toEqual(expected);
}

const code = fc.stringMatching(/^[0-9A-Z]{10}$/);
const key = fc.oneof(code, fc.string({ maxLength: 12 }), fc.constantFrom('success_map', 'unsuccess_map', '__proto__', 'constructor', 'a"b', 'ç\\n'));
const result = fc.oneof(
  fc.record({ current_health_status: fc.constantFrom('RISKLESS', 'RISKY', 'UNKNOWN'), expiration_date: fc.constantFrom('2021-03-01T20:59:59Z', '01.03.2021 20:59:59') }),
  fc.jsonValue({ maxDepth: 3 }),
);
const map = fc.array(fc.tuple(fc.oneof(code, key), result), { maxLength: 12 });
const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');

/** A bulk answer's text, written by hand so spacing, duplicates and key order vary. */
const answer = fc
  .record({
    success: fc.option(map, { nil: undefined }),
    unsuccess: fc.option(map, { nil: undefined }),
    extra: fc.array(fc.tuple(key, fc.jsonValue({ maxDepth: 2 })), { maxLength: 2 }),
    nullMap: fc.boolean(),
    gap: space,
  })
  .map(({ success, unsuccess, extra, nullMap, gap }) => {
    const obj = (entries: Array<[string, unknown]>): string => `{${gap}${entries.map(([k, v]) => `${JSON.stringify(k)}${gap}:${gap}${JSON.stringify(v)}`).join(`${gap},${gap}`)}${gap}}`;
    const members: string[] = [];
    for (const [k, v] of extra) members.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    if (success !== undefined) members.push(`"success_map"${gap}:${gap}${obj(success)}`);
    if (unsuccess !== undefined) members.push(`"unsuccess_map":${obj(unsuccess)}`);
    if (nullMap) members.push('"success_map":null');
    return `${gap}{${gap}${members.join(`,${gap}`)}${gap}}${gap}`;
  });

describe('scanBulkAnswer', () => {
  it('reads the two maps of a plain answer, codes as map keys', () => {
    const text = '{"success_map":{"A1B2345678":{"current_health_status":"RISKLESS","expiration_date":"2021-03-01T20:59:59Z"}},"unsuccess_map":{"C3D4567890":"hescodenotfound"}}';
    const maps = scanBulkAnswer(text)!;
    expect(maps.success!.get('A1B2345678')).toEqual({ current_health_status: 'RISKLESS', expiration_date: '2021-03-01T20:59:59Z' });
    expect(maps.unsuccess!.get('C3D4567890')).toBe('hescodenotfound');
  });

  it.each([
    ['not JSON', 'not json'],
    ['an array', '[1,2]'],
    ['a map that is an array', '{"success_map":[]}'],
    ['a map that is a string', '{"unsuccess_map":"x"}'],
    ['trailing text', '{"success_map":{}} x'],
    ['a missing comma', '{"success_map":{"A":1 "B":2}}'],
    ['two values for one key', '{"success_map":{"A":1 2}}'],
    ['an unclosed string', '{"success_map":{"A":"x}}'],
    ['a bad value', '{"success_map":{"A":tru}}'],
    ['a control character in a key', '{"success_map":{"A\u0001":1}}'],
    ['an escaped key', '{"success_map":{"A\\u0041":1}}'],
    ['mismatched brackets', '{"success_map":{"A":[1}}}'],
  ])('declines %s (JSON.parse decides)', (_what, text) => {
    expect(scanBulkAnswer(text)).toBeUndefined();
  });

  it('agrees with JSON.parse on generated answers', () => {
    fc.assert(fc.property(answer, (text) => agrees(text)), { seed: SEED, numRuns: 1500 });
  });

  it('accepts the generated answers that JSON.parse reads as bulk answers without escaped keys (it is not a no-op)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(answer, (text) => {
        if (scanBulkAnswer(text) !== undefined) accepted++;
      }),
      { seed: SEED, numRuns: 500 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('agrees with JSON.parse on corrupted answers (a character dropped, changed or added)', () => {
    const corrupted = fc.tuple(answer, fc.nat(), fc.constantFrom('', '"', ',', ':', '{', '}', '[', ']', '\\', ' ', 'x', '1', '\u0001')).map(([text, at, ch]) => {
      const i = at % Math.max(1, text.length);
      return [text.slice(0, i) + ch + text.slice(i + 1), text.slice(0, i) + ch + text.slice(i)] as const;
    });
    fc.assert(
      fc.property(corrupted, ([changed, inserted]) => {
        agrees(changed);
        agrees(inserted);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('gives parseBulkOk the same lookups as JSON.parse would (fallback and scanner paths)', () => {
    const asked = ['A1B2345678', 'C3D4567890', 'E5F6789012'];
    const body = (gap: string): string =>
      `{${gap}"success_map":{"A1B2345678":{"current_health_status":"RISKY","expiration_date":"2021-03-01T20:59:59Z"}},${gap}"unsuccess_map":{"C3D4567890":"hescodenotfound","E5F6789012":{"errorKey":"HesCodeHasBeenExpired"}}}`;
    const read = (text: string): BulkResult => {
      const into: BulkResult = new Map();
      parseBulkOk(text, asked, false, 'check-hes-codes', into);
      return into;
    };
    // The scanner takes the first; an escaped key in an unrelated place sends the second to JSON.parse.
    expect(scanBulkAnswer(body(' '))).toBeDefined();
    const fallback = body(' "\\u0078":1,');
    expect(scanBulkAnswer(fallback)).toBeUndefined();
    expect(read(body(' '))).toEqual(read(fallback));
    expect(read(body(' ')).get('A1B2345678')).toMatchObject({ kind: 'status', status: 'RISKY' });
    expect(read(body(' ')).get('C3D4567890')).toEqual({ kind: 'not-found' });
    expect(read(body(' ')).get('E5F6789012')).toEqual({ kind: 'expired' });
  });
});
