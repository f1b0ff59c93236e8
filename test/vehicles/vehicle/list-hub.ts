/**
 * A small hub for the fetcher's tests: real signed list files (the list codec, a real Ed25519 key),
 * served by a real node:http server with the vehicle's Bearer token, HTTP Range, and faults the
 * tests switch on (a cut mid-file, Range ignored, tampered bytes, another head).
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { diff } from '../../../src/vehicles/list/delta.js';
import { stateDigest } from '../../../src/vehicles/list/digest.js';
import { signHead } from '../../../src/vehicles/list/head.js';
import { ListKey } from '../../../src/vehicles/list/list-key.js';
import { encodeDelta, encodeSnapshot, fileName, signFile } from '../../../src/vehicles/list/list-file.js';
import { buildState } from '../../../src/vehicles/list/state.js';
import type { EntryValue, FileRef, ListHead, ListState } from '../../../src/vehicles/list/types.js';

export const TOKEN = 'vehicle-token-0123456789abcdef';
export const BITS = 36;
export const HORIZON = 48 * 3_600_000;

/** Ed25519 key pair, and the public key's 32 bytes in base64 as vehicle.publicKey takes it. */
export function signingKey(): { privateKey: KeyObject; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { privateKey, publicKey: Buffer.from(jwk.x!, 'base64url').toString('base64') };
}

export interface Request {
  url: string;
  range: string | undefined;
  auth: string | undefined;
}

export class ListHub {
  readonly keyText = `k1:${randomBytes(32).toString('base64')}`;
  readonly key = ListKey.parse(this.keyText);
  readonly signer = signingKey();
  readonly files = new Map<string, Buffer>();
  readonly requests: Request[] = [];
  /** head.json as served; null answers 404. */
  headText: string | null = null;
  /** Status for the head instead of 200 (401, 403, 503). */
  headStatus = 200;
  /** Go silent after this many bytes of the next file sent (once), as a link does in a tunnel: the vehicle's body timeout ends the wait. */
  cutNextFileAfter: number | null = null;
  ignoreRange = false;
  /** Bytes served in place of a file's (same length, other content). */
  readonly tampered = new Map<string, Buffer>();
  /** Upload bodies received at POST /v1/vehicles/reports. */
  readonly uploads: unknown[] = [];
  /** Bytes of file bodies sent. */
  fileBytesSent = 0;
  #server: Server | null = null;
  url = '';

  #states = new Map<number, ListState>();
  #refs = new Map<number, FileRef>();
  #issuedAt = new Map<number, number>();

  fp(cardId: string): number {
    return this.key.fingerprint(cardId, BITS);
  }

  state(cards: Record<string, EntryValue>): ListState {
    return buildState(BITS, Object.entries(cards).map(([id, value]) => ({ fp: this.fp(id), value })));
  }

  #add(bytes: Buffer, version: number, base: number | null): FileRef {
    const signed = signFile(bytes, this.signer.privateKey);
    const name = fileName(signed);
    this.files.set(name, signed);
    return { name, bytes: signed.length, version, base };
  }

  snapshot(version: number, issuedAt: number, cards: Record<string, EntryValue>, privateKey?: KeyObject): FileRef {
    const state = this.state(cards);
    this.#states.set(version, state);
    this.#issuedAt.set(version, issuedAt);
    const unsigned = encodeSnapshot(state, { keyId: this.key.keyId, version, issuedAt, horizonMs: HORIZON });
    if (privateKey === undefined) return this.#add(unsigned, version, null);
    const signed = signFile(unsigned, privateKey);
    const name = fileName(signed);
    this.files.set(name, signed);
    return { name, bytes: signed.length, version, base: null };
  }

  delta(base: number, version: number, issuedAt: number, cards: Record<string, EntryValue>): FileRef {
    const prev = this.#states.get(base)!;
    const next = this.state(cards);
    this.#states.set(version, next);
    this.#issuedAt.set(version, issuedAt);
    const unsigned = encodeDelta(diff(prev, next), { keyId: this.key.keyId, version, base, issuedAt, horizonMs: HORIZON, bits: BITS, count: next.fps.length, stateDigest: stateDigest(next) });
    return this.#add(unsigned, version, base);
  }

  /** Publish a head: the snapshot and the deltas after it. */
  publish(snapshot: FileRef, deltas: FileRef[], privateKey: KeyObject = this.signer.privateKey): ListHead {
    const version = deltas.at(-1)?.version ?? snapshot.version;
    const head: ListHead = { format: 1, keyId: this.key.keyId, version, issuedAt: this.#issuedAt.get(version)!, horizonMs: HORIZON, snapshot, deltas };
    this.headText = signHead(head, privateKey);
    return head;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((done) => this.#server!.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((done) => this.#server?.close(done));
  }

  get headUrl(): string {
    return `${this.url}/v1/vehicle-list/head`;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    this.requests.push({ url, range: req.headers.range, auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    if (url === '/v1/vehicles/reports' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.uploads.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(204).end();
      });
      return;
    }
    if (url === '/v1/vehicle-list/head') {
      if (this.headStatus !== 200 || this.headText === null) res.writeHead(this.headText === null ? 404 : this.headStatus).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(this.headText);
      return;
    }
    const m = /^\/v1\/vehicle-list\/files\/([0-9a-f]{64}\.hgvl)$/.exec(url);
    const file = m === null ? undefined : (this.tampered.get(m[1]!) ?? this.files.get(m[1]!));
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range !== null && !this.ignoreRange) {
      start = Number(range[1]);
      if (start >= file.length) {
        res.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${file.length - 1}/${file.length}`, 'content-length': file.length - start });
    } else {
      res.writeHead(200, { 'content-length': file.length, 'accept-ranges': 'bytes' });
    }
    const body = file.subarray(start);
    const cut = this.cutNextFileAfter;
    if (cut !== null) {
      this.cutNextFileAfter = null;
      this.fileBytesSent += cut;
      // The link drops mid-file: part of the body, then nothing more (the connection stays open and silent).
      res.write(body.subarray(0, cut));
      return;
    }
    this.fileBytesSent += body.length;
    res.end(body);
  }
}
