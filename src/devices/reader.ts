/**
 * Decodes one frame from a reader into what was presented: a canonical card id, a QR payload
 * with its AIM symbology prefix stripped, or a rejection with a reason the station counts.
 * This is where a reader's tap is canonicalised, once, by its profile's rules (the modules in
 * credentials/ do the work); the decision service takes the result as is.
 * Pure: no I/O, no clock. The payload is validated here, not trusted to the framing (a QR with
 * an embedded CR LF arrives from a line-framed scanner as two frames).
 */
import { stripAimPrefix } from '../credentials/aim-prefix.js';
import { canonicalCardId } from '../credentials/card-id.js';
import type { QrDecoding, ReaderProfile } from '../config/device-profiles.js';

export type RejectReason = 'symbology' | 'checksum' | 'length' | 'format';

export type ReadResult =
  | { kind: 'card'; value: string }
  | { kind: 'qr'; value: string }
  | { kind: 'rejected'; why: RejectReason };

const CONTROL = /[\x00-\x1C\x1E\x1F\x7F]/;

export function decodeFrame(profile: ReaderProfile, frame: Buffer): ReadResult {
  if (profile.credential === 'card') {
    const result = canonicalCardId(frame.toString('latin1'), profile.card);
    return result.ok ? { kind: 'card', value: result.id } : { kind: 'rejected', why: result.why };
  }
  return decodeQr(profile.qr, frame.toString('utf8'));
}

/** Strip and check the AIM prefix, then bound the payload. GS (0x1D) is legal inside a payload. */
export function decodeQr(qr: QrDecoding, text: string): ReadResult {
  const stripped = stripAimPrefix(text, qr);
  if (!stripped.ok) return { kind: 'rejected', why: stripped.why };
  const payload = stripped.payload;
  if (payload.length < qr.minLength || payload.length > qr.maxLength) return { kind: 'rejected', why: 'length' };
  if (CONTROL.test(payload)) return { kind: 'rejected', why: 'format' };
  return { kind: 'qr', value: payload };
}
