/**
 * The push notice a hub publishes after each version (docs/vehicles.md, "push notice"): the version
 * and when it was issued, nothing else — no card id, no HES code, no file name. It is not signed:
 * a vehicle takes it only as "poll the head now"; the signed head stays the one source of truth.
 */

export interface ListNotice {
  version: number;
  issuedAt: number;
}

/** A notice is a few dozen bytes; anything larger is not one. */
export const MAX_NOTICE_BYTES = 256;

export function encodeNotice(n: ListNotice): string {
  return JSON.stringify({ version: n.version, issuedAt: n.issuedAt });
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The notice in a payload, or null for anything else (too large, not JSON, other fields or types). */
export function parseNotice(payload: Uint8Array | string): ListNotice | null {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_NOTICE_BYTES) return null;
  let v: unknown;
  try {
    v = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (Object.keys(o).length !== 2 || !count(o.version) || o.version === 0 || !count(o.issuedAt)) return null;
  return { version: o.version, issuedAt: o.issuedAt };
}
