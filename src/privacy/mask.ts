/**
 * Masking for everything that leaves the process (logs, errors, admin reads, reports).
 * HES data are health data: a full HES code, QR payload, card id or identity never leaves.
 */

/** `A1B2345678` → `A1B2-****-**`: the first four characters only, in the familiar grouping. */
export function maskHesCode(code: string): string {
  const clean = code.replace(/[^0-9A-Za-z]/g, '').toUpperCase();
  if (clean.length < 4) return '****-****-**';
  return `${clean.slice(0, 4)}-****-**`;
}

/** `04A1B2C3D4E5F6` → `…E5F6`: the last four hex digits, enough to tell cards apart in a log. */
export function maskCardId(id: string): string {
  const clean = id.replace(/[^0-9A-Fa-f]/g, '').toUpperCase();
  return `…${clean.slice(-4).padStart(4, '*')}`;
}

/** A QR payload is never shown at all: only its length. */
export function maskQr(payload: string): string {
  return `<qr ${payload.length} chars>`;
}
