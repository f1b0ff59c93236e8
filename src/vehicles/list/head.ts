/**
 * The head (head.json): the newest version and the files that reach it, signed by the hub.
 *
 *   {"head":<the head's JSON text>,"signature":"<base64url Ed25519 over exactly that text>"}
 *
 * The signature covers the head's text as sent, not a re-serialisation of it, so no two JSON
 * writers have to agree on key order or number format: openHead() cuts the text out of what it
 * received, verifies it, and only then parses it.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { KEY_ID_PATTERN } from './header.js';
import { ListRefused } from './refusal.js';
import type { FileRef, ListHead } from './types.js';

const OPEN = '{"head":';
const SIG = ',"signature":"';
const CLOSE = '"}';

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkRef(raw: unknown, what: string): FileRef {
  if (typeof raw !== 'object' || raw === null) throw new RangeError(`${what} is not a file reference`);
  const r = raw as Record<string, unknown>;
  if (typeof r['name'] !== 'string' || !/^[0-9a-f]{64}\.hgvl$/.test(r['name'])) throw new RangeError(`${what}.name is not <sha256 hex>.hgvl`);
  if (!count(r['bytes']) || !count(r['version']) || r['version'] < 1) throw new RangeError(`${what}.bytes or .version is not a count`);
  if (r['base'] !== null && !count(r['base'])) throw new RangeError(`${what}.base is not a version or null`);
  return { name: r['name'], bytes: r['bytes'], version: r['version'], base: r['base'] };
}

/** The head, or RangeError naming what is wrong: the deltas must be one unbroken chain to `version`, the snapshot no newer than it. */
export function checkHead(raw: unknown): ListHead {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RangeError('a head is a JSON object');
  const h = raw as Record<string, unknown>;
  if (h['format'] !== 1) throw new RangeError('format is not 1');
  if (typeof h['keyId'] !== 'string' || !KEY_ID_PATTERN.test(h['keyId'])) throw new RangeError('keyId is not a key id');
  if (!count(h['version']) || h['version'] < 1 || !count(h['issuedAt']) || !count(h['horizonMs']) || h['horizonMs'] < 1) throw new RangeError('version, issuedAt or horizonMs is not a positive integer');
  const snapshot = checkRef(h['snapshot'], 'snapshot');
  if (snapshot.base !== null) throw new RangeError('the snapshot has a base');
  if (!Array.isArray(h['deltas'])) throw new RangeError('deltas is not a list');
  const deltas = h['deltas'].map((d: unknown, i: number) => checkRef(d, `deltas[${i}]`));
  // The deltas are one unbroken chain ending at the head's version. It may start before the
  // snapshot (a vehicle holding an older version follows it through) or after it (a head trimmed
  // for a vehicle ahead of the snapshot): the snapshot only has to be no newer than the head.
  for (let i = 0; i < deltas.length; i++) {
    const d = deltas[i]!;
    if (d.base === null || d.version <= d.base || (i > 0 && d.base !== deltas[i - 1]!.version)) throw new RangeError(`deltas[${i}] does not lead on from the delta before it`);
  }
  const end = deltas.length === 0 ? snapshot.version : deltas[deltas.length - 1]!.version;
  if (end !== h['version'] || snapshot.version > end) throw new RangeError('the snapshot and deltas do not end at the head\'s version');
  return { format: 1, keyId: h['keyId'], version: h['version'], issuedAt: h['issuedAt'], horizonMs: h['horizonMs'], snapshot, deltas };
}

/** head.json's text: the head and the Ed25519 signature of its JSON text under the hub's list-signing key. */
export function signHead(head: ListHead, privateKey: KeyObject): string {
  const text = JSON.stringify(checkHead(head));
  return `${OPEN}${text}${SIG}${sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64url')}${CLOSE}\n`;
}

/**
 * Verify and parse head.json as received. ListRefused `malformed` when it is not a head file,
 * `signature` when the signature does not verify under `publicKey`, `mismatch` when the head is
 * under another list key. Whether its version is newer than the one held is the caller's check (`replayed`).
 */
export function openHead(text: string, publicKey: KeyObject, expectedKeyId: string): ListHead {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const cut = body.lastIndexOf(SIG);
  if (!body.startsWith(OPEN) || !body.endsWith(CLOSE) || cut < OPEN.length) throw new ListRefused('malformed', 'not a head file ({"head":…,"signature":"…"})');
  const headText = body.slice(OPEN.length, cut);
  const signature = Buffer.from(body.slice(cut + SIG.length, -CLOSE.length), 'base64url');
  let good = false;
  try {
    good = signature.length === 64 && verify(null, Buffer.from(headText, 'utf8'), publicKey, signature);
  } catch {
    good = false;
  }
  if (!good) throw new ListRefused('signature', 'the head does not verify under the configured public key');
  let head: ListHead;
  try {
    head = checkHead(JSON.parse(headText));
  } catch (err) {
    throw new ListRefused('malformed', `the head is not a list head (${err instanceof SyntaxError ? 'not JSON' : (err as Error).message})`);
  }
  if (head.keyId !== expectedKeyId) throw new ListRefused('mismatch', `the head is under list key ${head.keyId}, this vehicle holds ${expectedKeyId}`);
  return head;
}
