/**
 * A vehicle's store-and-forward upload (docs/vehicles.md): what its journal and counters held
 * while the link was down, and which list it decides from. The schema is the route's (fastify
 * validates with it, and the OpenAPI document shows it); the entries are the journal's records,
 * which carry no card id, code or QR content.
 */
import type { Reason, Source } from '../../types.js';

/** Entries one upload may carry: a vehicle sends a long backlog as several uploads. */
export const MAX_UPLOAD_ENTRIES = 1000;
/** Counter names one upload may carry. */
export const MAX_UPLOAD_COUNTERS = 100;
/** Bytes of one upload's body: 1,000 entries of ~200 bytes with room to spare. */
export const UPLOAD_BODY_LIMIT = 1024 * 1024;

const REASONS = ['RISKLESS', 'RISKY', 'CODE_EXPIRED', 'CODE_NOT_FOUND', 'CODE_INVALID', 'CARD_UNBOUND', 'MINISTRY_UNAVAILABLE', 'REPEAT_TAP', 'REQUIREMENT_UNMET', 'OUTSIDE_HOURS'] as const;
// `list` is the vehicle's own source (a decision from the list); the rest are a station's.
const SOURCES = ['cache', 'ministry', 'stale', 'none', 'list'] as const;
// A reason or source added to the domain without being accepted here fails to compile.
type Covered<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : false;
const everyReason: Covered<Reason, (typeof REASONS)[number]> = true;
const everySource: Covered<Source, (typeof SOURCES)[number]> = true;
void everyReason;
void everySource;

export interface UploadEntry {
  at: number;
  gate: string;
  reader: string | null;
  kind: 'card' | 'qr' | 'hes';
  verdict: 'pass' | 'deny';
  reason: Reason;
  source: Source;
  elapsedMs: number;
  decisionId: string;
}

export interface UploadBody {
  /** The list version the vehicle decides from; null before its first list. */
  listVersion: number | null;
  /** That version's signed issuedAt. */
  listIssuedAt: number | null;
  /** The vehicle's clock when it sent this. */
  clockAt: number;
  entries: UploadEntry[];
  counters: Record<string, number>;
}

const epochMs = { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000 } as const;

export const uploadSchema = {
  type: 'object',
  required: ['listVersion', 'listIssuedAt', 'clockAt', 'entries', 'counters'],
  additionalProperties: false,
  properties: {
    listVersion: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    listIssuedAt: { ...epochMs, type: ['integer', 'null'] },
    clockAt: epochMs,
    entries: {
      type: 'array',
      maxItems: MAX_UPLOAD_ENTRIES,
      items: {
        type: 'object',
        required: ['at', 'gate', 'reader', 'kind', 'verdict', 'reason', 'source', 'elapsedMs', 'decisionId'],
        additionalProperties: false,
        properties: {
          at: epochMs,
          // As the decision API takes a gate (routes/decisions.ts): anything a vehicle journaled is
          // accepted, or one odd gate name would hold its whole journal back (the cursor moves on 2xx only).
          gate: { type: 'string', minLength: 1, maxLength: 64 },
          reader: { type: ['string', 'null'], pattern: '^[A-Za-z0-9._/-]{1,64}$' },
          kind: { type: 'string', enum: ['card', 'qr', 'hes'] },
          verdict: { type: 'string', enum: ['pass', 'deny'] },
          reason: { type: 'string', enum: REASONS },
          source: { type: 'string', enum: SOURCES },
          elapsedMs: { type: 'number', minimum: 0, maximum: 3_600_000 },
          decisionId: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' },
        },
      },
    },
    counters: {
      type: 'object',
      maxProperties: MAX_UPLOAD_COUNTERS,
      propertyNames: { pattern: '^[a-z][a-z0-9_]{0,63}$' },
      additionalProperties: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    },
  },
} as const;

export const UPLOAD_SHAPE = '{"listVersion", "listIssuedAt", "clockAt", "entries": [journal records, at most 1000], "counters": {name: count}}';
