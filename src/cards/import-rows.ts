/**
 * One row of a card import file → a checked binding or a rejection reason. No I/O here; the
 * importer feeds lines in and counts what comes out. Rejections carry a reason code only:
 * a row's values are card ids and HES codes and never leave the process.
 */
import { checkBinding, type BindingInput } from './binding.js';

export type ImportFormat = 'csv' | 'ndjson';

/** Why a row was not imported (stable codes, documented in docs/cards.md). */
export type RejectReason = 'CARD_ID_INVALID' | 'HES_CODE_INVALID' | 'PROFILE_INVALID' | 'MALFORMED_ROW';

export const REJECT_REASONS: readonly RejectReason[] = ['CARD_ID_INVALID', 'HES_CODE_INVALID', 'PROFILE_INVALID', 'MALFORMED_ROW'];

export type RowResult = { ok: true; binding: Required<BindingInput> } | { ok: false; reason: RejectReason };

/** Longer lines are not parsed at all: no real row comes close. */
export const MAX_LINE_LENGTH = 4096;

const MALFORMED: RowResult = { ok: false, reason: 'MALFORMED_ROW' };

function check(cardId: string, hesCode: string, profile: string | null | undefined): RowResult {
  const c = checkBinding(cardId, hesCode, profile);
  return c.ok ? c : { ok: false, reason: c.problem };
}

/**
 * Split a CSV line into trimmed fields. Quoted fields (`"a,b"`, `""` for a quote) are
 * supported on one line; returns null for an unterminated quote or text after a closing quote.
 */
export function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
      if (i < n && line[i] !== ',') return null;
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      fields.push(line.slice(i, end).trim());
      i = end;
    }
    if (i >= n) return fields;
    i++; // the comma
  }
}

/** Column positions found in a CSV header. */
export interface CsvColumns {
  cardId: number;
  hesCode: number;
  profile: number | undefined;
  count: number;
}

function columnKey(name: string): string {
  return name.replace(/[\s_-]/g, '').toLowerCase();
}

/** Read the header (`card_id,hes_code[,profile]`, any order, any case); null when it is not one. */
export function parseCsvHeader(line: string): CsvColumns | null {
  const fields = splitCsvLine(line.replace(/^\uFEFF/, '').replace(/\r$/, ''));
  if (fields === null) return null;
  const keys = fields.map(columnKey);
  const cardId = keys.indexOf('cardid');
  const hesCode = keys.indexOf('hescode');
  const profile = keys.indexOf('profile');
  if (cardId < 0 || hesCode < 0) return null;
  return { cardId, hesCode, profile: profile < 0 ? undefined : profile, count: fields.length };
}

export function parseCsvRow(line: string, columns: CsvColumns): RowResult {
  if (line.length > MAX_LINE_LENGTH) return MALFORMED;
  const fields = splitCsvLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (fields === null || fields.length > columns.count) return MALFORMED;
  const cardId = fields[columns.cardId];
  const hesCode = fields[columns.hesCode];
  if (cardId === undefined || hesCode === undefined) return MALFORMED;
  const profile = columns.profile === undefined ? undefined : fields[columns.profile];
  return check(cardId, hesCode, profile);
}

function stringField(o: Record<string, unknown>, camel: string, snake: string): unknown {
  return o[camel] !== undefined ? o[camel] : o[snake];
}

/** One import record: `{"cardId","hesCode","profile"?}` (snake_case keys accepted too). */
export function parseRecord(value: unknown): RowResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return MALFORMED;
  const o = value as Record<string, unknown>;
  const cardId = stringField(o, 'cardId', 'card_id');
  const hesCode = stringField(o, 'hesCode', 'hes_code');
  const profile = o['profile'];
  if (typeof cardId !== 'string' || typeof hesCode !== 'string') return MALFORMED;
  if (profile !== undefined && profile !== null && typeof profile !== 'string') return { ok: false, reason: 'PROFILE_INVALID' };
  return check(cardId, hesCode, profile);
}

export function parseNdjsonRow(line: string): RowResult {
  if (line.length > MAX_LINE_LENGTH) return MALFORMED;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return MALFORMED;
  }
  return parseRecord(value);
}
