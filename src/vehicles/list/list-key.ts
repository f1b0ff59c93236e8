/**
 * The list key: what keeps a vehicle list free of card ids. A listed card is its *fingerprint*,
 * a prefix of an HMAC under this key, so a list file (or a stolen vehicle's disk) names no card;
 * a vehicle holds the key to fingerprint the card that taps.
 *
 *   key file (secret, 0600)           derived with HKDF-SHA256 (info "vehicle-list")
 *   ─────────────────────────         ────────────────────────────────────────────────────────────
 *   # comments                   ──>  mac key → fingerprint(id, bits) = first `bits` bits of
 *   <kid>:<base64 of 32 bytes>                  HMAC-SHA256(mac key, "card:" + canonical card id)
 *
 * The format and its rules are the city key's (src/city/city-key.ts), with one key per file: a new
 * list key is a new key id, and vehicles refuse files under another id (types.ts, `mismatch`), so
 * a rotation is a new snapshot rather than a file that two keys must open.
 */
import { hash, hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HesGateError } from '../../errors.js';
import { KEY_ID_RE, keyFileLines } from '../../key-file.js';

/** Fingerprints are exact integers in a double: at most 52 bits (2^52 ≤ MAX_SAFE_INTEGER). */
export const MAX_FINGERPRINT_BITS = 52;
/** The probability a tapping card that is not on the list takes a listed card's value. */
const FALSE_MATCH = 1e-6;

/**
 * The fingerprint length for a list of `count` cards: a card not on the list matches one of them
 * with probability count / 2^bits; bits keep that ≤ 10^-6 while the list grows to twice `count`
 * (so the hub changes the length, and sends a snapshot, only when the city's cards double).
 * Lists under 1,024 cards are sized as 1,024 so a young city does not re-key every few days.
 */
export function bitsFor(count: number): number {
  const n = Math.max(count, 1024) * 2;
  return Math.min(MAX_FINGERPRINT_BITS, Math.ceil(Math.log2(n / FALSE_MATCH)));
}

/** The setting that named the file (`vehicles.listKeyFile` at a hub, `vehicle.listKeyFile` on board), for the error's details. */
type ConfigKey = 'vehicles.listKeyFile' | 'vehicle.listKeyFile';

function parseError(message: string, key: ConfigKey | undefined): HesGateError {
  return new HesGateError('HG_CONFIG_INVALID', message, key === undefined ? {} : { details: { key } });
}

export class ListKey {
  readonly keyId: string;
  /** HMAC-SHA256's two padded key blocks (RFC 2104), each followed by room for what it hashes. */
  readonly #inner: Buffer;
  readonly #outer: Buffer;

  private constructor(keyId: string, secret: Buffer) {
    this.keyId = keyId;
    const mac = Buffer.from(hkdfSync('sha256', secret, Buffer.from('hes-gate list key'), Buffer.from('vehicle-list'), 32));
    // 64-byte pads, then 5 bytes of "card:" and up to 251 more: a canonical card id is at most 40.
    this.#inner = Buffer.alloc(64 + 256, 0x36);
    this.#outer = Buffer.alloc(64 + 32, 0x5c);
    for (let i = 0; i < mac.length; i++) {
      this.#inner[i]! ^= mac[i]!;
      this.#outer[i]! ^= mac[i]!;
    }
    this.#inner.write('card:', 64, 'binary');
    mac.fill(0);
  }

  /**
   * Parse a key file's text: `#` comments, blank lines, and exactly one `<kid>:<base64 of 32
   * bytes>` line. HG_CONFIG_INVALID names the line, never its content.
   */
  static parse(text: string, configKey?: ConfigKey): ListKey {
    let key: ListKey | undefined;
    const lines = keyFileLines(text, (line) => {
      throw parseError(`the list key file's line ${line} is not "<key id>:<32 bytes in base64>" (create one with: hes-gate vehicle keygen)`, configKey);
    });
    for (const { line, kid, secret } of lines) {
      if (key === undefined) key = new ListKey(kid, secret);
      secret.fill(0);
      if (line !== lines[0]!.line) throw parseError(`the list key file holds a second key on line ${line}: a list key file holds one key (a new key is a new key id and a new snapshot)`, configKey);
    }
    if (key === undefined) throw parseError('the list key file holds no key (create one with: hes-gate vehicle keygen)', configKey);
    return key;
  }

  /** Read and parse the key file; HG_CONFIG_FILE when it cannot be read (the path is configuration, not secret). */
  static async load(file: string, configKey?: ConfigKey): Promise<ListKey> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const where = configKey === undefined ? '' : ` (${configKey})`;
      throw new HesGateError('HG_CONFIG_FILE', `the list key file ${file}${where} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): fix the path or the file's permissions`, {
        cause: err,
        ...(configKey === undefined ? {} : { details: { key: configKey } }),
      });
    }
    return ListKey.parse(text, configKey);
  }

  /** A new key file's text (write it with mode 0600): a comment line, then `<kid>:<32 random bytes, base64>`. */
  static generate(kid = `vl-${randomBytes(3).toString('hex')}`): string {
    if (!KEY_ID_RE.test(kid)) throw new HesGateError('HG_CONFIG_INVALID', 'a list key id is 1–16 lower-case letters, digits or dashes');
    return `# hes-gate vehicle list key: the hub's vehicles.listKeyFile and every vehicle's vehicle.listKeyFile (mode 0600)\n${kid}:${randomBytes(32).toString('base64')}\n`;
  }

  /**
   * The first `bits` bits (1–52) of HMAC-SHA256(mac key, "card:" + id), as an integer. Runs on
   * every card tap on board and once per bound card when the hub builds a list: the HMAC is two
   * one-shot hashes over pads kept with the key, and the digests come back as latin1 strings, as
   * city-key.ts measured (a Buffer per digest is an ArrayBuffer each; bench/vehicle-list.ts).
   * One thread, one call at a time: the message is written into the key's own block.
   */
  fingerprint(canonicalCardId: string, bits: number): number {
    if (!(bits >= 1 && bits <= MAX_FINGERPRINT_BITS && Number.isInteger(bits))) throw new RangeError(`fingerprint bits must be 1–${MAX_FINGERPRINT_BITS}`);
    let inner: string;
    if (canonicalCardId.length * 3 <= this.#inner.length - 69) {
      const n = this.#inner.write(canonicalCardId, 69, 'utf8');
      inner = hash('sha256', this.#inner.subarray(0, 69 + n), 'binary');
    } else {
      inner = hash('sha256', Buffer.concat([this.#inner.subarray(0, 69), Buffer.from(canonicalCardId, 'utf8')]), 'binary');
    }
    this.#outer.write(inner, 64, 'binary');
    const d = hash('sha256', this.#outer, 'binary');
    const hi = ((d.charCodeAt(0) << 24) | (d.charCodeAt(1) << 16) | (d.charCodeAt(2) << 8) | d.charCodeAt(3)) >>> 0;
    if (bits <= 32) return hi >>> (32 - bits);
    // The 20 more bits come from the next three bytes (24 bits), shifted down to what is asked.
    const lo = (d.charCodeAt(4) << 16) | (d.charCodeAt(5) << 8) | d.charCodeAt(6);
    return hi * 2 ** (bits - 32) + (lo >>> (56 - bits));
  }
}
