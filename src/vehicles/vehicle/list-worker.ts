/**
 * The vehicle's list worker: every byte of a list is checked and decoded here, never on the
 * thread that answers taps (a delta over 8M entries is tens of ms; a snapshot's decode and
 * digest more). The worker also owns the list's files on disk.
 *
 *   main ── restore ─────────> held.json + files/ ─> open, verify, apply in order ─> state
 *        ── head(text) ──────> signature, key id, not replayed ─> the head (newest signed time kept)
 *        ── apply(path, ref) ─> sha256 = name, size, signature, version, base, digest
 *                                 ├─ ok: file → files/, held.json, state (SharedArrayBuffer) ─> main swaps it in
 *                                 └─ refused (reason): the partial file goes; the held version stays
 *
 * A state crosses to the main thread in SharedArrayBuffers: one copy per version, shared, not
 * cloned. `<dir>/held.json` (written to a temporary file and renamed) names the verified files of
 * the version held and the newest signed head seen, so a restart decides offline at once and
 * never accepts an older head than one it saw before.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { openHead } from '../list/head.js';
import { advance, openFile } from '../list/list-file.js';
import { ListRefused } from '../list/refusal.js';
import type { FileRef, ListHead, ListState, RefusalReason } from '../list/types.js';

export interface ListWorkerData {
  vehicleListWorker: true;
  /** `<dataDir>/vehicle-list` */
  dir: string;
  /** The hub's list-signing public key: 32 bytes, base64. */
  publicKey: string;
  keyId: string;
}

/** What the worker holds, without the state. */
export interface HeldInfo {
  version: number;
  issuedAt: number;
  horizonMs: number;
  count: number;
}

export interface Newest {
  version: number;
  issuedAt: number;
}

export type ToListWorker =
  | { id: number; type: 'restore' }
  | { id: number; type: 'head'; text: string }
  | { id: number; type: 'apply'; path: string; ref: FileRef };

export type ListWorkerAnswer =
  | { ok: true; head?: ListHead; held: HeldInfo | null; state?: ListState; newest: Newest; refusals?: Array<{ reason: RefusalReason; message: string }> }
  | { ok: false; reason: RefusalReason; message: string; newest: Newest };

export type FromListWorker = { id: number; answer: ListWorkerAnswer } | { id: number; error: string };

interface HeldFile {
  format: 1;
  keyId: string;
  held: (HeldInfo & { chain: FileRef[] }) | null;
  newest: Newest;
}

/** The hub's raw Ed25519 public key as a KeyObject. */
export function ed25519Key(base64: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(base64, 'base64').toString('base64url') }, format: 'jwk' });
}

/** A copy of a state in SharedArrayBuffers: the main thread reads it without a clone. */
function shared(s: ListState): ListState {
  const fps = new Float64Array(new SharedArrayBuffer(s.fps.byteLength));
  fps.set(s.fps);
  const values = new Uint16Array(new SharedArrayBuffer(s.values.byteLength));
  values.set(s.values);
  return { bits: s.bits, fps, values, palette: s.palette };
}

export class ListStore {
  readonly #dir: string;
  readonly #key: KeyObject;
  readonly #keyId: string;
  #held: (HeldInfo & { chain: FileRef[]; state: ListState }) | null = null;
  #newest: Newest = { version: 0, issuedAt: 0 };

  constructor(d: Omit<ListWorkerData, 'vehicleListWorker'>) {
    this.#dir = d.dir;
    this.#key = ed25519Key(d.publicKey);
    this.#keyId = d.keyId;
    mkdirSync(join(d.dir, 'files'), { recursive: true, mode: 0o700 });
    mkdirSync(join(d.dir, 'partial'), { recursive: true, mode: 0o700 });
  }

  #answer(extra: { head?: ListHead; withState?: boolean; refusals?: Array<{ reason: RefusalReason; message: string }> } = {}): ListWorkerAnswer {
    const h = this.#held;
    return {
      ok: true,
      ...(extra.head === undefined ? {} : { head: extra.head }),
      held: h === null ? null : { version: h.version, issuedAt: h.issuedAt, horizonMs: h.horizonMs, count: h.count },
      ...(extra.withState === true && h !== null ? { state: h.state } : {}),
      newest: { ...this.#newest },
      ...(extra.refusals === undefined || extra.refusals.length === 0 ? {} : { refusals: extra.refusals }),
    };
  }

  #save(): void {
    const h = this.#held;
    const file: HeldFile = {
      format: 1,
      keyId: this.#keyId,
      held: h === null ? null : { version: h.version, issuedAt: h.issuedAt, horizonMs: h.horizonMs, count: h.count, chain: h.chain },
      newest: this.#newest,
    };
    const path = join(this.#dir, 'held.json');
    writeFileSync(`${path}.tmp`, JSON.stringify(file), { mode: 0o600, flush: true });
    renameSync(`${path}.tmp`, path);
  }

  #saw(version: number, issuedAt: number): void {
    if (issuedAt > this.#newest.issuedAt) this.#newest.issuedAt = issuedAt;
    if (version > this.#newest.version) this.#newest.version = version;
  }

  /** Open a file's bytes as the ref names them: content address, size, signature, key, version, base. */
  #open(bytes: Buffer, ref: FileRef): ReturnType<typeof openFile> {
    if (bytes.length !== ref.bytes || `${createHash('sha256').update(bytes).digest('hex')}.hgvl` !== ref.name) {
      throw new ListRefused('tampered', `the bytes of ${ref.name.slice(0, 12)}… are not the file the head names`);
    }
    const file = openFile(bytes, this.#key, this.#keyId);
    if (file.header.version !== ref.version || file.header.base !== ref.base) throw new ListRefused('tampered', `the file says version ${file.header.version}, the head named ${ref.version}`);
    return file;
  }

  /** Apply an opened file to what is held (or take a snapshot). */
  #take(file: ReturnType<typeof openFile>, ref: FileRef, chain: FileRef[]): void {
    const h = this.#held;
    const header = file.header;
    let state: ListState;
    if (file.kind === 'snapshot') {
      if (h !== null && header.version < h.version) throw new ListRefused('replayed', `snapshot version ${header.version} is older than the version held (${h.version})`);
      state = file.state;
      chain = [ref];
    } else {
      if (h === null) throw new ListRefused('mismatch', `a delta from version ${header.base} with no list held`);
      if (header.version <= h.version) throw new ListRefused('replayed', `delta to version ${header.version}, the version held is ${h.version}`);
      state = advance(h.state, h.version, file);
      chain = [...chain, ref];
    }
    this.#held = { version: header.version, issuedAt: header.issuedAt, horizonMs: header.horizonMs, count: state.fps.length, chain, state: shared(state) };
    this.#saw(header.version, header.issuedAt);
  }

  /** Rebuild the held version from the verified files on disk. A file that no longer verifies drops the version (counted). */
  restore(): ListWorkerAnswer {
    const path = join(this.#dir, 'held.json');
    if (!existsSync(path)) return this.#answer();
    let saved: HeldFile;
    try {
      saved = JSON.parse(readFileSync(path, 'utf8')) as HeldFile;
    } catch {
      return this.#answer({ refusals: [{ reason: 'malformed', message: 'held.json is not JSON: starting with no list' }] });
    }
    if (saved.newest !== undefined && Number.isFinite(saved.newest.version) && Number.isFinite(saved.newest.issuedAt)) this.#newest = { version: saved.newest.version, issuedAt: saved.newest.issuedAt };
    const refusals: Array<{ reason: RefusalReason; message: string }> = [];
    if (saved.held !== null && saved.keyId !== this.#keyId) refusals.push({ reason: 'mismatch', message: `the list held is under key ${saved.keyId}, this vehicle holds ${this.#keyId}: starting with no list` });
    if (saved.held !== null && saved.keyId === this.#keyId) {
      try {
        let chain: FileRef[] = [];
        for (const ref of saved.held.chain) {
          this.#take(this.#open(readFileSync(join(this.#dir, 'files', ref.name)), ref), ref, chain);
          chain = this.#held!.chain;
        }
      } catch (err) {
        this.#held = null;
        refusals.push(err instanceof ListRefused ? { reason: err.reason, message: `on disk: ${err.message}` } : { reason: 'malformed', message: `on disk: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      }
    }
    this.#prune();
    return this.#answer({ withState: true, refusals });
  }

  /** Verify a head and refuse one older than the version held or the newest head seen. */
  head(text: string): ListWorkerAnswer {
    let head: ListHead;
    try {
      head = openHead(text, this.#key, this.#keyId);
      const h = this.#held;
      if (h !== null && head.version < h.version) throw new ListRefused('replayed', `head version ${head.version} is older than the version held (${h.version})`);
      if (head.issuedAt < this.#newest.issuedAt || head.version < this.#newest.version) {
        throw new ListRefused('replayed', `head version ${head.version} issued ${new Date(head.issuedAt).toISOString()} is older than one seen before (version ${this.#newest.version})`);
      }
    } catch (err) {
      if (err instanceof ListRefused) return { ok: false, reason: err.reason, message: err.message, newest: { ...this.#newest } };
      throw err;
    }
    const before = this.#newest.issuedAt;
    this.#saw(head.version, head.issuedAt);
    if (this.#newest.issuedAt !== before) this.#save();
    return this.#answer({ head });
  }

  /** Verify a downloaded file and apply it; the partial file is kept only when it is taken (moved to files/). */
  apply(path: string, ref: FileRef): ListWorkerAnswer {
    try {
      this.#take(this.#open(readFileSync(path), ref), ref, this.#held?.chain ?? []);
    } catch (err) {
      rmSync(path, { force: true });
      if (err instanceof ListRefused) return { ok: false, reason: err.reason, message: err.message, newest: { ...this.#newest } };
      throw err;
    }
    renameSync(path, join(this.#dir, 'files', ref.name));
    this.#save();
    this.#prune();
    return this.#answer({ withState: true });
  }

  /** Files no longer in the held chain go (a new snapshot makes the older ones useless). */
  #prune(): void {
    const keep = new Set((this.#held?.chain ?? []).map((r) => r.name));
    for (const name of readdirSync(join(this.#dir, 'files'))) if (!keep.has(name)) rmSync(join(this.#dir, 'files', name), { force: true });
  }
}

function run(): void {
  const port = parentPort!;
  const store = new ListStore(workerData as ListWorkerData);
  port.on('message', (m: ToListWorker) => {
    let reply: FromListWorker;
    try {
      const answer = m.type === 'restore' ? store.restore() : m.type === 'head' ? store.head(m.text) : store.apply(m.path, m.ref);
      reply = { id: m.id, answer };
    } catch (err) {
      reply = { id: m.id, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
    port.postMessage(reply);
  });
}

if (parentPort !== null && (workerData as { vehicleListWorker?: boolean } | null)?.vehicleListWorker === true) run();
