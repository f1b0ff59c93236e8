/**
 * Dump a city's Redis and look for secrets in clear (issue 12, "Privacy by design"): every key
 * and every value of every type, and a search for each HES code, card id or QR part — as
 * written, without separators (or with them), in either case, and hex- or base64-encoded — in key names and
 * values alike. Used on synthetic data here and by the city's end-to-end test.
 */
import { Redis } from 'ioredis';
import { maskCardId } from '../../../src/privacy/mask.js';

export interface DumpedKey {
  key: string;
  type: string;
  /** Every string the key holds: the value; hash fields and values; stream ids, field names and values; members. */
  values: string[];
}

export interface DumpOptions {
  host?: string;
  username?: string;
  password?: string;
}

/** Every key of the Redis on `redisPort` with everything it holds (SCAN, so it never blocks Redis). */
export async function dumpCity(redisPort: number, options: DumpOptions = {}): Promise<DumpedKey[]> {
  const r = new Redis({ port: redisPort, host: options.host ?? '127.0.0.1', username: options.username, password: options.password, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  await r.connect();
  try {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'COUNT', 1000);
      for (const k of batch) keys.add(k);
      cursor = next;
    } while (cursor !== '0');
    const out: DumpedKey[] = [];
    for (const key of [...keys].sort()) {
      const type = await r.type(key);
      out.push({ key, type, values: await valuesOf(r, key, type) });
    }
    return out;
  } finally {
    r.disconnect();
  }
}

async function valuesOf(r: Redis, key: string, type: string): Promise<string[]> {
  switch (type) {
    case 'string':
      return [(await r.get(key)) ?? ''];
    case 'hash':
      return Object.entries(await r.hgetall(key)).flat();
    case 'stream': {
      const out: string[] = [];
      let from = '-';
      for (;;) {
        const entries = await r.xrange(key, from, '+', 'COUNT', 1000);
        for (const [id, fields] of entries) out.push(id, ...fields);
        if (entries.length < 1000) return out;
        from = `(${entries[entries.length - 1]![0]}`;
      }
    }
    case 'list':
      return r.lrange(key, 0, -1);
    case 'set':
      return r.smembers(key);
    case 'zset':
      return r.zrange(key, '0', '-1');
    default:
      throw new Error(`dumpCity: key type ${type} is not dumped (add it)`);
  }
}

/** A secret found in clear: where, and in which form (the secret itself is masked). */
export interface ClearFinding {
  key: string;
  /** `key` (in the key name) or `value`. */
  in: 'key' | 'value';
  form: string;
  secret: string;
}

/** The forms a secret could take in clear: as is, compact, either case, hex, base64 (each alignment). */
function forms(secret: string): Array<[form: string, text: string]> {
  const compact = secret.replace(/[^0-9A-Za-z]/g, '');
  const out: Array<[string, string]> = [
    ['as written', secret],
    ['compact', compact],
    ['hex', Buffer.from(compact).toString('hex')],
  ];
  // base64 of a substring depends on where it starts: take the part every alignment shares.
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.from('x'.repeat(pad) + compact).toString('base64');
    const start = Math.ceil((pad * 4) / 3) + 1;
    const stable = b64.slice(start, Math.floor(((pad + compact.length) * 4) / 3) - 1);
    if (stable.length >= 8) {
      out.push([`base64 (${pad})`, stable]);
      out.push([`base64url (${pad})`, stable.replaceAll('+', '-').replaceAll('/', '_')]);
    }
  }
  return out.filter(([, text]) => text.length >= 6);
}

/** Every place a secret (HES code, card id, QR part) shows in clear in the dump; [] when none. */
export function findClear(dump: readonly DumpedKey[], secrets: readonly string[]): ClearFinding[] {
  const found: ClearFinding[] = [];
  for (const secret of secrets) {
    const masked = maskCardId(secret);
    for (const [form, text] of forms(secret)) {
      const caseless = !form.startsWith('base64');
      const needle = caseless ? text.toLowerCase() : text;
      // Case-insensitive forms also match a value written with the code's dashes or spaces.
      const has = (s: string): boolean => (caseless ? s.toLowerCase().includes(needle) || s.replace(/[-\s]/g, '').toLowerCase().includes(needle) : s.includes(needle));
      for (const k of dump) {
        if (has(k.key)) found.push({ key: k.key, in: 'key', form, secret: masked });
        if (k.values.some(has)) found.push({ key: k.key, in: 'value', form, secret: masked });
      }
    }
  }
  return found;
}
