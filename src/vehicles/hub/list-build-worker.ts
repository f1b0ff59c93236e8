/**
 * The vehicle list builder's thread: everything that touches a card id, and every long loop, runs
 * here, never on the thread that answers taps.
 *
 *   build {version, issuedAt, snapshot?, base}
 *     ─> bindings ⨝ statuses ⨝ findings (read-only connection, cards/bound-statuses.ts)
 *     ─> per card: entryOf(status at issuedAt) and its fingerprint under the list key
 *     ─> ListState ─> same digest as the last version? ── yes ─> 'unchanged'
 *                                                       └ no ─> delta from the last version (same key,
 *                                                               same bits), and a snapshot when asked or
 *                                                               when no delta can be made; each signed,
 *                                                               written <name>.tmp → fsync → rename → fsync dir
 *     <─ the files' names, sizes and versions, the count: fingerprints and sizes only
 *
 * The last built state stays here (`held`) for the next delta. The main thread says `forget` when
 * what it published is no longer what this thread holds (a head write failed, the lease moved):
 * the next build is then a snapshot.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { canonicalCardId } from '../../credentials/card-id.js';
import { openBoundStatuses } from '../../cards/bound-statuses.js';
import { HesGateError } from '../../errors.js';
import { bitsFor, diff, encodeDelta, encodeSnapshot, fileName, ListKey, signFile, StateBuilder, stateDigest, type EntryValue, type FileRef, type ListState } from '../list/index.js';
import { entryOf } from './entry-of.js';

export interface BuildWorkerData {
  dataDir: string;
  listKeyFile: string;
  signingKeyFile: string;
  publishDir: string;
}

export interface BuildRequest {
  type: 'build';
  id: number;
  version: number;
  issuedAt: number;
  horizonMs: number;
  /** A RISKLESS learnt longer ago than this is listed `unknown` (cache.lastKnownMaxAgeMs). */
  statusMaxAgeMs: number;
  /** Write a snapshot whatever the last version was. */
  snapshot: boolean;
}

export type ToBuilder = BuildRequest | { type: 'forget' } | { type: 'close' };

export interface BuildOutcome {
  outcome: 'unchanged' | 'published';
  /** Bound cards read, and entries in the list (equal unless fingerprints collided). */
  cards: number;
  entries: number;
  bits: number;
  /** Written this build (absent when unchanged). */
  snapshot: FileRef | null;
  delta: FileRef | null;
  /** Cards whose stored id is not canonical: left off the list (a vehicle could never look them up). */
  skipped: number;
  durationMs: number;
}

export type FromBuilder =
  | { type: 'ready'; keyId: string }
  | { type: 'failed'; code: string; message: string }
  | { type: 'built'; id: number; result: BuildOutcome }
  | { type: 'error'; id: number; code: string; message: string };

const port = parentPort;
if (port === null) throw new Error('list-build-worker.ts runs as a worker thread only');
const settings = workerData as BuildWorkerData;

let key: ListKey;
let signer: KeyObject;
try {
  key = ListKey.parse(readFileSync(settings.listKeyFile, 'utf8'));
  signer = createPrivateKey({ key: readFileSync(settings.signingKeyFile, 'utf8'), format: 'pem' });
  if (signer.asymmetricKeyType !== 'ed25519') throw new HesGateError('HG_CONFIG_FILE', 'vehicles.signingKeyFile is not an Ed25519 key (hes-gate vehicle keygen)');
} catch (err) {
  port.postMessage({ type: 'failed', code: err instanceof HesGateError ? err.code : 'HG_CONFIG_FILE', message: err instanceof HesGateError ? err.message : 'a vehicle key file cannot be read or parsed (vehicles.listKeyFile, vehicles.signingKeyFile)' } satisfies FromBuilder);
  process.exit(0);
}

/** The last state built and published, and its version. */
let held: { state: ListState; digest: string; version: number } | null = null;

/** Write a file so a reader sees all of it or none of it, and it survives a power cut once renamed. */
function writeAtomically(bytes: Buffer): FileRef & { file: string } {
  const name = fileName(bytes);
  const file = join(settings.publishDir, name);
  const temp = `${file}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    // Readable by a static server's user whatever the service's umask (0077): a list file holds
    // fingerprints and verdict classes only, and its name cannot be guessed.
    fchmodSync(fd, 0o644);
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dir = openSync(settings.publishDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return { name, bytes: bytes.length, version: 0, base: null, file };
}

function build(req: BuildRequest): BuildOutcome {
  const started = performance.now();
  const horizonEnd = req.issuedAt + req.horizonMs;
  // The same few values for most cards: one object each, so the state's palette sees each once.
  const values = new Map<string, EntryValue>();
  // Columns, not an object per card: a million objects would outlive young collections on the way.
  let fps = new Float64Array(1024);
  const refs: EntryValue[] = [];
  let skipped = 0;
  const rows = openBoundStatuses(settings.dataDir);
  let cards: number;
  try {
    cards = rows.each(([cardId, profile, status, expiresAt, fetchedAt, finding, foundAt]) => {
      const id = canonicalCardId(cardId);
      if (!id.ok) {
        skipped++;
        return;
      }
      const v = entryOf(status, expiresAt, profile, req.issuedAt, horizonEnd, finding, foundAt, fetchedAt, req.statusMaxAgeMs);
      const k = `${v.cls}|${v.validUntil}|${v.profile}`;
      let value = values.get(k);
      if (value === undefined) values.set(k, (value = v));
      // The fingerprint length is known once the count is: store the full 52 bits, cut below.
      if (refs.length === fps.length) {
        const bigger = new Float64Array(fps.length * 2);
        bigger.set(fps);
        fps = bigger;
      }
      fps[refs.length] = key.fingerprint(id.id, 52);
      refs.push(value);
    });
  } finally {
    rows.close();
  }
  const bits = bitsFor(refs.length);
  const shift = 2 ** (52 - bits);
  // Fingerprints cut to their first `bits` bits, added by column (no object per card).
  const builder = new StateBuilder(bits);
  for (let i = 0; i < refs.length; i++) builder.add(Math.floor(fps[i]! / shift), refs[i]!);
  const state = builder.build();
  const digest = stateDigest(state);
  const base = { cards, entries: state.fps.length, bits, skipped };
  if (held !== null && held.digest === digest && !req.snapshot) {
    return { outcome: 'unchanged', ...base, snapshot: null, delta: null, durationMs: performance.now() - started };
  }
  const meta = { keyId: key.keyId, version: req.version, issuedAt: req.issuedAt, horizonMs: req.horizonMs };
  let delta: FileRef | null = null;
  let snapshot: FileRef | null = null;
  // A delta needs the state it leads from, under the same fingerprint length. It is written at a
  // snapshot step too, so the chain of deltas runs on through snapshots: a vehicle one version
  // behind a new snapshot takes one small delta, not the whole list again.
  if (held !== null && held.state.bits === bits) {
    const d = diff(held.state, state);
    const w = writeAtomically(signFile(encodeDelta(d, { ...meta, base: held.version, bits, count: state.fps.length, stateDigest: digest }), signer));
    delta = { name: w.name, bytes: w.bytes, version: req.version, base: held.version };
  }
  if (req.snapshot || delta === null) {
    const w = writeAtomically(signFile(encodeSnapshot(state, meta), signer));
    snapshot = { name: w.name, bytes: w.bytes, version: req.version, base: null };
  }
  held = { state, digest, version: req.version };
  return { outcome: 'published', ...base, snapshot, delta, durationMs: performance.now() - started };
}

port.on('message', (m: ToBuilder) => {
  if (m.type === 'forget') {
    held = null;
    return;
  }
  if (m.type === 'close') {
    port.close();
    return;
  }
  try {
    port.postMessage({ type: 'built', id: m.id, result: build(m) } satisfies FromBuilder);
  } catch (err) {
    // Never a card id in the message: errors here are the store's, the file system's or the codec's (RangeError on values).
    const code = err instanceof HesGateError ? err.code : 'HG_INTERNAL';
    const message = err instanceof HesGateError ? err.message : `the vehicle list could not be built (${(err as NodeJS.ErrnoException).code ?? (err as Error).name})`;
    port.postMessage({ type: 'error', id: m.id, code, message } satisfies FromBuilder);
  }
});

port.postMessage({ type: 'ready', keyId: key.keyId } satisfies FromBuilder);
