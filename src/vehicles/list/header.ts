/**
 * A list file's header (types.ts, ListHeader), checked field by field: the hub checks what it is
 * about to sign, a vehicle what it verified, so a header either side accepts is one both wrote.
 */
import { MAX_FINGERPRINT_BITS } from './list-key.js';
import type { ListFileKind, ListHeader } from './types.js';

export const KIND_BYTE: Readonly<Record<ListFileKind, number>> = { snapshot: 1, delta: 2 };
export const KEY_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,15}$/;
const FIELDS = ['format', 'kind', 'keyId', 'version', 'base', 'issuedAt', 'horizonMs', 'bits', 'count', 'stateDigest'];

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The header, or RangeError naming the first field that is wrong. */
export function checkHeader(raw: unknown, kindByte: number): ListHeader {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RangeError('a header is a JSON object');
  const h = raw as Record<string, unknown>;
  const keys = Object.keys(h);
  if (keys.length !== FIELDS.length || !FIELDS.every((f) => Object.hasOwn(h, f))) throw new RangeError(`a header has exactly the fields ${FIELDS.join(', ')}`);
  if (h['format'] !== 1) throw new RangeError('format is not 1');
  const kind = h['kind'];
  if ((kind !== 'snapshot' && kind !== 'delta') || KIND_BYTE[kind] !== kindByte) throw new RangeError('kind is not the file\'s kind');
  if (typeof h['keyId'] !== 'string' || !KEY_ID_PATTERN.test(h['keyId'])) throw new RangeError('keyId is not a key id');
  const version = h['version'];
  if (!count(version) || version < 1) throw new RangeError('version is not a positive integer');
  const base = h['base'];
  if (kind === 'snapshot' ? base !== null : !count(base) || base >= version) throw new RangeError(kind === 'snapshot' ? 'a snapshot has no base' : 'a delta\'s base is not an earlier version');
  if (!count(h['issuedAt'])) throw new RangeError('issuedAt is not epoch ms');
  if (!count(h['horizonMs']) || h['horizonMs'] < 1) throw new RangeError('horizonMs is not a positive integer');
  const bits = h['bits'];
  if (!count(bits) || bits < 1 || bits > MAX_FINGERPRINT_BITS) throw new RangeError(`bits is not 1–${MAX_FINGERPRINT_BITS}`);
  if (!count(h['count']) || h['count'] > 0xffffffff) throw new RangeError('count is not a count');
  if (typeof h['stateDigest'] !== 'string' || !/^[0-9a-f]{64}$/.test(h['stateDigest'])) throw new RangeError('stateDigest is not sha256 hex');
  return raw as ListHeader;
}
