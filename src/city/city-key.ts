/**
 * The city key: what keeps a city's Redis free of anything that identifies a person in clear.
 *
 *   key file (secret, 0600)          derived with HKDF-SHA256
 *   ────────────────────────         ─────────────────────────────────────────────────
 *   <kid>:<base64 of 32 bytes>  ──>  mac key  → keys:   HMAC-SHA256(kind ":" value), 16 bytes, base64url
 *   <older kid>:<…>  (optional)      seal key → values: AES-256-GCM, 12-byte random IV, AAD = where it is stored
 *
 * The first line is the current key; it names the key space (`hg:<kid>:…`, keyspace.ts), so a
 * new key is a new key space that stations move to by snapshot. Older lines only open values
 * sealed under them (key rotation, docs/city.md). Lines starting with `#` are comments.
 */
import { createCipheriv, createDecipheriv, hash, hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HesGateError } from '../errors.js';
import { KEY_ID_RE, keyFileLines } from '../key-file.js';

/** What a key is made from: a card id or a HES code. */
export type MacKind = 'card' | 'code';

const SEALED_PREFIX = 'g1.';

interface KeyPair {
  kid: string;
  /** HMAC-SHA256 under the MAC key, as its two padded key blocks (RFC 2104). */
  ipad: Buffer;
  opad: Buffer;
  seal: Buffer;
  /** ipad, then room for a message (hmac() writes it there: one thread, one call at a time). */
  inner: Buffer;
  /** opad, then the inner digest. */
  outer: Buffer;
  /** Where a digest's first bytes are put to be encoded. */
  out: Buffer;
}

function derive(kid: string, secret: Buffer): KeyPair {
  const salt = Buffer.from('hes-gate city key');
  const mac = Buffer.from(hkdfSync('sha256', secret, salt, Buffer.from('mac'), 32));
  const ipad = Buffer.alloc(64, 0x36);
  const opad = Buffer.alloc(64, 0x5c);
  for (let i = 0; i < mac.length; i++) {
    ipad[i]! ^= mac[i]!;
    opad[i]! ^= mac[i]!;
  }
  const inner = Buffer.alloc(64 + 1024);
  ipad.copy(inner);
  const outer = Buffer.alloc(64 + 32);
  opad.copy(outer);
  return { kid, ipad, opad, seal: Buffer.from(hkdfSync('sha256', secret, salt, Buffer.from('seal'), 32)), inner, outer, out: Buffer.alloc(32) };
}

/**
 * HMAC-SHA256 written out with one-shot hashes: the same bytes as createHmac, at about 60 % of
 * its cost — a reconciliation round MACs every binding of a copy (1M rows), twice. The message
 * is written into a block kept with the key and both digests come back as latin1 strings: a
 * digest returned as a Buffer is an ArrayBuffer of its own: four million of them a 1M-row round
 * made it ~2–3× slower and its collector time ~3× larger (bench/city-reconcile.ts).
 */
function hmac(k: KeyPair, message: string): string {
  let inner: string;
  if (message.length * 3 <= k.inner.length - 64) {
    const n = k.inner.write(message, 64, 'utf8');
    inner = hash('sha256', k.inner.subarray(0, 64 + n), 'binary');
  } else {
    inner = hash('sha256', Buffer.concat([k.ipad, Buffer.from(message, 'utf8')]), 'binary');
  }
  k.outer.write(inner, 64, 'latin1');
  return hash('sha256', k.outer, 'binary');
}

export class CityKey {
  readonly #current: KeyPair;
  readonly #byKid: ReadonlyMap<string, KeyPair>;

  private constructor(pairs: readonly KeyPair[]) {
    this.#current = pairs[0]!;
    this.#byKid = new Map(pairs.map((p) => [p.kid, p]));
  }

  /** Parse a key file's text. Throws HG_CITY_KEY naming the line (never its content) when malformed. */
  static parse(text: string): CityKey {
    const pairs: KeyPair[] = [];
    const lines = keyFileLines(text, (line) => {
      throw new HesGateError('HG_CITY_KEY', `the city key file's line ${line} is not "<key id>:<32 bytes in base64>" (create one with: hes-gate city keygen)`);
    });
    for (const { line, kid, secret } of lines) {
      if (pairs.some((p) => p.kid === kid)) throw new HesGateError('HG_CITY_KEY', `the city key file names key id ${kid} twice (line ${line})`);
      pairs.push(derive(kid, secret));
    }
    if (pairs.length === 0) throw new HesGateError('HG_CITY_KEY', 'the city key file holds no key (create one with: hes-gate city keygen)');
    return new CityKey(pairs);
  }

  /** Read and parse the key file; HG_CITY_KEY when it cannot be read (the path is configuration, not secret). */
  static async load(file: string): Promise<CityKey> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new HesGateError('HG_CITY_KEY', `the city key file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
    return CityKey.parse(text);
  }

  /** A new key file line: `<kid>:<32 random bytes, base64>`. */
  static generateLine(kid: string): string {
    if (!KEY_ID_RE.test(kid)) throw new HesGateError('HG_CITY_KEY', 'a key id is 1–16 lower-case letters, digits or dashes');
    return `${kid}:${randomBytes(32).toString('base64')}`;
  }

  /** The current key's id: it names the city's key space. */
  get kid(): string {
    return this.#current.kid;
  }

  /** The Redis key (or hash field) of a card id or HES code: 16 bytes of HMAC, base64url (22 characters). */
  mac(kind: MacKind, value: string): string {
    const k = this.#current;
    k.out.write(hmac(k, `${kind}:${value}`), 0, 16, 'latin1');
    return k.out.toString('base64url', 0, 16);
  }

  /**
   * A binding's digest tag (reconcile/digest-tree.ts): 8 bytes of HMAC of the card's field and its
   * content, as 16 hex digits. Deterministic (unlike a sealed value), so every copy of a binding
   * digests the same, and keyed, so a tag in Redis says nothing about the code it covers.
   */
  tag(field: string, hesCode: string, profile: string): string {
    const k = this.#current;
    k.out.write(hmac(k, `binding:${field}\n${hesCode}\n${profile}`), 0, 8, 'latin1');
    return k.out.toString('hex', 0, 8);
  }

  /**
   * The same tag as two 32-bit words (its first and last 4 bytes, big-endian) put at out[at] and
   * out[at + 1]: what the digest tree XORs, without a string per binding to parse.
   */
  tagWords(field: string, hesCode: string, profile: string, out: Uint32Array, at: number): void {
    const d = hmac(this.#current, `binding:${field}\n${hesCode}\n${profile}`);
    out[at] = ((d.charCodeAt(0) << 24) | (d.charCodeAt(1) << 16) | (d.charCodeAt(2) << 8) | d.charCodeAt(3)) >>> 0;
    out[at + 1] = ((d.charCodeAt(4) << 24) | (d.charCodeAt(5) << 16) | (d.charCodeAt(6) << 8) | d.charCodeAt(7)) >>> 0;
  }

  /**
   * Seal a value under the current key. `where` (the stream or hash field it is written to) is
   * authenticated with it, so a sealed value moved elsewhere does not open.
   */
  seal(plain: string, where: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#current.seal, iv);
    c.setAAD(Buffer.from(where));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final(), c.getAuthTag()]);
    return `${SEALED_PREFIX}${this.#current.kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Open a sealed value; undefined when it is malformed, sealed under an unknown key, or altered. */
  open(sealed: string, where: string): string | undefined {
    if (!sealed.startsWith(SEALED_PREFIX)) return undefined;
    const [kid, ivB64, bodyB64] = sealed.slice(SEALED_PREFIX.length).split('.');
    const pair = kid === undefined ? undefined : this.#byKid.get(kid);
    if (pair === undefined || ivB64 === undefined || bodyB64 === undefined) return undefined;
    const iv = Buffer.from(ivB64, 'base64url');
    const body = Buffer.from(bodyB64, 'base64url');
    if (iv.length !== 12 || body.length < 16) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', pair.seal, iv);
      d.setAAD(Buffer.from(where));
      d.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
