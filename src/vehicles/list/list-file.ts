/**
 * A list file (docs/vehicles.md): one version's snapshot or one step's delta, signed by the hub,
 * named by its content, served by any static server.
 *
 *   "HGVL" | format 1 | kind (1 snapshot, 2 delta) | u32 header length | header JSON (ListHeader) | body | Ed25519 signature (64)
 *
 *   snapshot body  u8 k | u32 n | fingerprints (rice.ts) | u32 n | palette (brotli JSON) | u32 n | value indices (values-codec.ts)
 *   delta body     u32 count | u8 k | u32 n | removed fps | u32 count | u8 k | u32 n | upserted fps | palette | values of the upserted
 *
 * Integers are big-endian; `u32 n` is the length in bytes of what follows. The signature covers
 * every byte before it, so a vehicle verifies it before it reads the header; the few bytes it
 * reads first (magic, format, kind) only decide whether this is a list file at all. Encoding and
 * opening run in worker threads (values-codec.ts).
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { applyDelta, checkDelta } from './delta.js';
import { compactPalette } from './entry-value.js';
import { stateDigest } from './digest.js';
import { ListRefused } from './refusal.js';
import { CodecError, decodeFingerprints, encodeFingerprints } from './rice.js';
import { checkBits, checkSorted, checkValues } from './state.js';
import type { ListDelta, ListFileKind, ListHeader, ListState } from './types.js';
import { decodePalette, decodeValues, encodePalette, encodeValues } from './values-codec.js';
import { checkHeader, KIND_BYTE } from './header.js';

const MAGIC = Buffer.from('HGVL', 'latin1');
const FORMAT = 1;
const PREFIX = 10;
const SIGNATURE = 64;

/** What every file of a version says about it; the rest of the header comes from the state. */
export interface VersionMeta {
  keyId: string;
  version: number;
  issuedAt: number;
  horizonMs: number;
}

/** A delta's header also names its base and describes the state it leads to (count, stateDigest()). */
export interface DeltaMeta extends VersionMeta {
  base: number;
  bits: number;
  count: number;
  stateDigest: string;
}

export interface OpenedSnapshot {
  kind: 'snapshot';
  header: ListHeader;
  state: ListState;
}
export interface OpenedDelta {
  kind: 'delta';
  header: ListHeader;
  delta: ListDelta;
}
export type OpenedFile = OpenedSnapshot | OpenedDelta;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function fingerprintSection(fps: Float64Array, bits: number, withCount: boolean): Buffer[] {
  const { k, bytes } = encodeFingerprints(fps, bits);
  return [...(withCount ? [u32(fps.length)] : []), Buffer.of(k), u32(bytes.length), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
}

/** The palette (only the values used, most used first: compactPalette) and the index stream. */
function valueSections(values: Uint16Array, palette: ListState['palette']): Buffer[] {
  const indices = values.slice();
  const p = encodePalette(compactPalette(indices, palette));
  const v = encodeValues(indices);
  return [u32(p.length), p, u32(v.length), v];
}

function frame(kind: ListFileKind, header: ListHeader, body: Buffer[]): Buffer {
  checkHeader(JSON.parse(JSON.stringify(header)), KIND_BYTE[kind]);
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  return Buffer.concat([MAGIC, Buffer.of(FORMAT, KIND_BYTE[kind]), u32(h.length), h, ...body]);
}

/**
 * A snapshot's bytes, not yet signed (signFile). RangeError for meta a header cannot hold or a
 * state that is not sorted fingerprints with values of its palette: the hub never signs a file
 * every vehicle would refuse.
 */
export function encodeSnapshot(state: ListState, meta: VersionMeta): Buffer {
  checkBits(state.bits);
  checkSorted(state.fps, state.bits, "a state's fingerprints");
  if (state.values.length !== state.fps.length) throw new RangeError('a state has not one value per fingerprint');
  checkValues(state.values, state.palette.length, 'a state');
  const header: ListHeader = {
    format: 1, kind: 'snapshot', keyId: meta.keyId, version: meta.version, base: null, issuedAt: meta.issuedAt, horizonMs: meta.horizonMs,
    bits: state.bits, count: state.fps.length, stateDigest: stateDigest(state),
  };
  return frame('snapshot', header, [...fingerprintSection(state.fps, state.bits, false), ...valueSections(state.values, state.palette)]);
}

/** A delta's bytes, not yet signed (signFile). RangeError for meta a header cannot hold or a delta that is not one (checkDelta). */
export function encodeDelta(delta: ListDelta, meta: DeltaMeta): Buffer {
  checkBits(meta.bits);
  checkDelta(delta, meta.bits);
  const header: ListHeader = {
    format: 1, kind: 'delta', keyId: meta.keyId, version: meta.version, base: meta.base, issuedAt: meta.issuedAt, horizonMs: meta.horizonMs,
    bits: meta.bits, count: meta.count, stateDigest: meta.stateDigest,
  };
  return frame('delta', header, [
    ...fingerprintSection(delta.removed, meta.bits, true),
    ...fingerprintSection(delta.upserted, meta.bits, true),
    ...valueSections(delta.values, delta.palette),
  ]);
}

/** The file: the unsigned bytes and their Ed25519 signature under the hub's list-signing key. */
export function signFile(unsigned: Uint8Array, privateKey: KeyObject): Buffer {
  return Buffer.concat([unsigned, sign(null, unsigned, privateKey)]);
}

/** A file's content-addressed name: `<sha256 hex of its bytes>.hgvl`. */
export function fileName(bytes: Uint8Array): string {
  return `${createHash('sha256').update(bytes).digest('hex')}.hgvl`;
}

class Cursor {
  #at: number;
  constructor(
    private readonly bytes: Buffer,
    at: number,
    private readonly end: number,
  ) {
    this.#at = at;
  }
  take(n: number): Buffer {
    if (n > this.end - this.#at) throw new CodecError('a section runs past the body');
    const b = this.bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return b;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u32(): number {
    return this.take(4).readUInt32BE(0);
  }
  done(): boolean {
    return this.#at === this.end;
  }
}

function readFingerprints(c: Cursor, count: number, bits: number): Float64Array {
  const k = c.u8();
  return decodeFingerprints(c.take(c.u32()), count, bits, k);
}

function readValues(c: Cursor, count: number): { values: Uint16Array; palette: ListState['palette'] } {
  const palette = decodePalette(c.take(c.u32()));
  const values = decodeValues(c.take(c.u32()), count, palette.length);
  if (!c.done()) throw new CodecError('bytes after the last section');
  return { values, palette };
}

/**
 * Verify and decode a file. Throws ListRefused: `malformed` when it is not a list file (or a
 * signed one that does not decode), `signature` when the signature does not verify under
 * `publicKey`, `mismatch` when it is under another list key, `tampered` when a snapshot's
 * content is not the state its header's digest names. A delta's digest is checked when it is
 * applied (advance()).
 */
export function openFile(bytes: Uint8Array, publicKey: KeyObject, expectedKeyId: string): OpenedFile {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < PREFIX + 2 + SIGNATURE || !b.subarray(0, 4).equals(MAGIC) || b[4] !== FORMAT || (b[5] !== 1 && b[5] !== 2)) {
    throw new ListRefused('malformed', 'not a vehicle list file (magic, format or kind)');
  }
  const signedEnd = b.length - SIGNATURE;
  let good = false;
  try {
    good = verify(null, b.subarray(0, signedEnd), publicKey, b.subarray(signedEnd));
  } catch {
    good = false;
  }
  if (!good) throw new ListRefused('signature', 'the list file does not verify under the configured public key');
  const headerLength = b.readUInt32BE(6);
  if (headerLength > signedEnd - PREFIX) throw new ListRefused('malformed', 'the header runs past the file');
  let header: ListHeader;
  try {
    header = checkHeader(JSON.parse(b.subarray(PREFIX, PREFIX + headerLength).toString('utf8')), b[5]!);
  } catch (err) {
    throw new ListRefused('malformed', `the header is not a list header (${err instanceof SyntaxError ? 'not JSON' : (err as Error).message})`);
  }
  if (header.keyId !== expectedKeyId) throw new ListRefused('mismatch', `the file is under list key ${header.keyId}, this vehicle holds ${expectedKeyId}`);
  const c = new Cursor(b, PREFIX + headerLength, signedEnd);
  try {
    if (header.kind === 'snapshot') {
      const fps = readFingerprints(c, header.count, header.bits);
      const state: ListState = { bits: header.bits, fps, ...readValues(c, header.count) };
      if (stateDigest(state) !== header.stateDigest) throw new ListRefused('tampered', 'the snapshot is not the state its header names');
      return { kind: 'snapshot', header, state };
    }
    const removed = readFingerprints(c, c.u32(), header.bits);
    const upserted = readFingerprints(c, c.u32(), header.bits);
    return { kind: 'delta', header, delta: { removed, upserted, ...readValues(c, upserted.length) } };
  } catch (err) {
    if (err instanceof CodecError) throw new ListRefused('malformed', err.message);
    throw err;
  }
}

/**
 * The state after an opened delta, from the state held at version `heldVersion`. ListRefused
 * `mismatch` when the delta does not start at that version or uses another fingerprint length;
 * `tampered` when the result is not the state the delta's header names (count, digest).
 */
export function advance(held: ListState, heldVersion: number, file: OpenedDelta): ListState {
  const { header, delta } = file;
  if (header.base !== heldVersion) throw new ListRefused('mismatch', `the delta leads from version ${header.base}, this vehicle holds ${heldVersion}`);
  if (header.bits !== held.bits) throw new ListRefused('mismatch', `the delta has ${header.bits}-bit fingerprints, the list held has ${held.bits}`);
  let next: ListState;
  try {
    next = applyDelta(held, delta);
  } catch (err) {
    throw new ListRefused('malformed', (err as Error).message);
  }
  if (next.fps.length !== header.count || stateDigest(next) !== header.stateDigest) throw new ListRefused('tampered', `the state after the delta is not version ${header.version}'s`);
  return next;
}
