/**
 * A node's own signing key (Ed25519, Node's crypto): what lets a station or hub speak only for
 * itself. The city key (city-key.ts) is shared by every node, so it cannot say who wrote an
 * entry; this key can, and the hub can revoke one node's key without touching the others.
 *
 *   node key file (secret, 0600)   PKCS#8 PEM of an Ed25519 private key   (hes-gate city node keygen)
 *   public key                     32 raw bytes, base64: what the hub registers (node-registry.ts)
 *
 * A signer numbers what it signs with `n`, strictly increasing for its life and, being taken from
 * the wall clock in microseconds, across restarts: receivers refuse an `n` they saw or one far
 * older than the newest (replay.ts).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { HesGateError } from '../../errors.js';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The raw public key, base64 (44 characters). */
export function publicKeyText(key: KeyObject): string {
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_PREFIX.length).toString('base64');
}

/** A registered public key back into a key object; undefined when it is not 32 bytes of base64. */
export function publicKeyFrom(text: string): KeyObject | undefined {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(text, 'base64')]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

export function verifySignature(publicKey: KeyObject, message: string, signature: string): boolean {
  const sig = Buffer.from(signature, 'base64url');
  if (sig.length !== 64) return false;
  try {
    return verify(null, Buffer.from(message), publicKey, sig);
  } catch {
    return false;
  }
}

export class NodeKey {
  readonly publicKey: string;
  #last = 0;

  private constructor(
    private readonly key: KeyObject,
    private readonly clock: () => number,
  ) {
    this.publicKey = publicKeyText(key);
  }

  /** A new key pair's private half as PKCS#8 PEM, and its public key text. */
  static generate(): { pem: string; publicKey: string } {
    const { privateKey } = generateKeyPairSync('ed25519');
    return { pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey: publicKeyText(privateKey) };
  }

  /** Write a new key file (mode 0600, refusing to overwrite one); returns its public key. */
  static async create(file: string): Promise<string> {
    const { pem, publicKey } = NodeKey.generate();
    try {
      await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      throw new HesGateError('HG_CITY_NODE_KEY', `the node key file ${file} cannot be created (${(err as NodeJS.ErrnoException).code ?? 'error'}; an existing one is never overwritten)`, { cause: err });
    }
    return publicKey;
  }

  static parse(pem: string, clock: () => number = Date.now): NodeKey {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch (err) {
      throw new HesGateError('HG_CITY_NODE_KEY', 'the node key file is not a PKCS#8 PEM private key (create one with: hes-gate city node keygen)', { cause: err });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new HesGateError('HG_CITY_NODE_KEY', `the node key file holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
    return new NodeKey(key, clock);
  }

  /** Read and parse the key file; the path is configuration, the content never appears in an error. */
  static async load(file: string, clock?: () => number): Promise<NodeKey> {
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (err) {
      throw new HesGateError('HG_CITY_NODE_KEY', `the node key file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
    return NodeKey.parse(pem, clock);
  }

  /** The next sequence number: microseconds of the wall clock, strictly above the last one. */
  next(): number {
    this.#last = Math.max(this.#last + 1, this.clock() * 1000);
    return this.#last;
  }

  /** Ed25519 signature of `message`, base64url (86 characters). */
  sign(message: string): string {
    return sign(null, Buffer.from(message), this.key).toString('base64url');
  }
}
