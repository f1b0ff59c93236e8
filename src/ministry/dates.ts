/**
 * Dates as the ministry writes them. Seen: `2021-03-01T20:59:59.000Z` and `2021-03-01T20:59:59Z`;
 * tolerated as well: no `Z` (the service's dates are UTC, so a bare time is read as UTC, never as
 * this machine's local time), a space instead of `T`, more or fewer fraction digits, an explicit
 * offset, and a bare date.
 */

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:(Z)|([+-])(\d{2}):?(\d{2})?)?$/i;

/** Epoch ms of a ministry date string, or null when it is absent, `"null"` or not a date. */
export function parseMinistryDate(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = ISO_DATE.exec(value.trim());
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 31 February over into March: a date that does not exist is not a date.
  if (new Date(t).getUTCDate() !== day) return null;
  if (m[9] !== undefined) {
    const offsetMin = Number(m[10]) * 60 + (m[11] === undefined ? 0 : Number(m[11]));
    t -= (m[9] === '-' ? -offsetMin : offsetMin) * 60_000;
  }
  return t;
}

/**
 * Milliseconds to wait from an HTTP `Retry-After` value: delay-seconds or an HTTP-date
 * (RFC 9110 §10.2.3). Null when absent or unreadable; never negative.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, now: number): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return null;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}
