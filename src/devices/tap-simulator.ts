/**
 * Rehearsal without hardware: the exact bytes a reader with a given profile sends for a card id
 * or a QR payload, and a writer that puts them into a pseudo-terminal (the peer end of a socat
 * pair whose other end the station opens as its reader).
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { encodeCardId } from '../credentials/card-id.js';
import { xorHexChecksum } from './framing/start-end.js';
import type { ReaderProfile } from '../config/device-profiles.js';

export interface EncodeOptions {
  /** AIM prefix to send with a QR (`]Q1`), or null for none. @default "]Q1" unless the profile says "none" */
  aim?: string | null;
}

/** Bytes a reader with `profile` sends for a canonical card id (`kind: 'card'`) or a QR payload. */
export function encodeTap(profile: ReaderProfile, kind: 'card' | 'qr', value: string, options: EncodeOptions = {}): Buffer {
  if (kind !== profile.credential) throw new TypeError(`profile ${profile.name} reads ${profile.credential}, not ${kind}`);
  let text: string;
  if (profile.credential === 'card') {
    text = encodeCardId(value, profile.card);
  } else {
    const aim = profile.qr.aimPrefix === 'none' ? null : options.aim === undefined ? ']Q1' : options.aim;
    text = `${aim ?? ''}${value}`;
  }
  const body = Buffer.from(text, profile.credential === 'card' ? 'latin1' : 'utf8');
  const framing = profile.framing;
  switch (framing.type) {
    case 'delimiter':
      return Buffer.concat([body, Buffer.from(framing.delimiter, 'latin1')]);
    case 'silence':
      return body;
    case 'start-end': {
      const checksum =
        framing.checksum === 'xor-hex'
          ? Buffer.from(xorHexChecksum(text).toString(16).toUpperCase().padStart(2, '0'), 'latin1')
          : Buffer.alloc(0);
      return Buffer.concat([Buffer.from([framing.start]), body, checksum, Buffer.from([framing.end])]);
    }
  }
}

/** Write bytes into a tty (or any existing file) by path; never creates a file. */
async function writeTap(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_NOCTTY);
  try {
    await handle.write(bytes);
  } finally {
    await handle.close();
  }
}

/** `encodeTap` + `writeTap`: one simulated tap. Silence-framed profiles need a pause between taps. */
export async function simulateTap(tap: { path: string; profile: ReaderProfile; kind: 'card' | 'qr'; value: string; aim?: string | null }): Promise<void> {
  await writeTap(tap.path, encodeTap(tap.profile, tap.kind, tap.value, tap.aim === undefined ? {} : { aim: tap.aim }));
}
