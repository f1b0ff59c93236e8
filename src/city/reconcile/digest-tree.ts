/**
 * The digest tree every copy of the city's bindings is compared by (Merkle-style, as Dynamo and
 * Cassandra repair): a binding sits in a leaf named by the first LEAF_CHARS characters of its hash
 * field (the card's MAC, base64url), so 64³ = 262,144 leaves; a leaf's digest is the XOR of its
 * bindings' tags (CityKey.tag: 8 bytes), a node's the XOR of its children's, the root's the XOR of
 * all. XOR makes a change an update of a few nodes (old tag out, new tag in), whatever the order.
 *
 *   root "." ─ 64 nodes ".a" ─ 4,096 nodes ".ab" ─ 262,144 leaves ".abc" ─ bindings (field → tag)
 *
 * In Redis (write-script.ts keeps them in the same script as the binding):
 *   hg:<kid>:digests       hash  node → 16 hex digits; "@" = id of the last bindings entry
 *   hg:<kid>:leaf:<abc>    hash  field → tag of every binding in that leaf
 * A copy that agrees at the root is done with one HGET; one that does not walks down the nodes
 * that differ (HMGET of 64 children at a time) and moves only the leaves that differ.
 */
export const LEAF_CHARS = 3;
export const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export const ZERO = '0000000000000000';
export const LEAVES = 64 ** LEAF_CHARS;

const INDEX = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

/** The leaf's number of a hash field (0 … 64³−1); -1 for a field that is no MAC. */
export function leafIndex(field: string): number {
  let n = 0;
  for (let i = 0; i < LEAF_CHARS; i++) {
    const v = INDEX.get(field[i] ?? '');
    if (v === undefined) return -1;
    n = n * 64 + v;
  }
  return n;
}

/** The digests hash field of a node path ("" is the root). */
export const nodeField = (path: string): string => `.${path}`;

export function xorHex(a: string, b: string): string {
  const hi = (Number.parseInt(a.slice(0, 8), 16) ^ Number.parseInt(b.slice(0, 8), 16)) >>> 0;
  const lo = (Number.parseInt(a.slice(8, 16), 16) ^ Number.parseInt(b.slice(8, 16), 16)) >>> 0;
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** One copy's tree, built from its bindings' (field, tag) pairs. */
export class DigestTree {
  /** Two 32-bit halves per leaf. */
  readonly #leaves = new Uint32Array(LEAVES * 2);
  count = 0;

  add(field: string, tag: string): void {
    const i = leafIndex(field);
    if (i < 0) return;
    this.#leaves[i * 2] = (this.#leaves[i * 2]! ^ Number.parseInt(tag.slice(0, 8), 16)) >>> 0;
    this.#leaves[i * 2 + 1] = (this.#leaves[i * 2 + 1]! ^ Number.parseInt(tag.slice(8, 16), 16)) >>> 0;
    this.count++;
  }

  /** The same as add, for a leaf number and a tag's two words (CityKey.tagWords): no strings. */
  addWords(leaf: number, hi: number, lo: number): void {
    if (leaf < 0) return;
    this.#leaves[leaf * 2] = (this.#leaves[leaf * 2]! ^ hi) >>> 0;
    this.#leaves[leaf * 2 + 1] = (this.#leaves[leaf * 2 + 1]! ^ lo) >>> 0;
    this.count++;
  }

  /** The digest of the node at `path` (a prefix of 0 … LEAF_CHARS characters). */
  node(path: string): string {
    let first = 0;
    for (const c of path) first = first * 64 + INDEX.get(c)!;
    const span = 64 ** (LEAF_CHARS - path.length);
    first *= span;
    let hi = 0;
    let lo = 0;
    for (let i = first; i < first + span; i++) {
      hi ^= this.#leaves[i * 2]!;
      lo ^= this.#leaves[i * 2 + 1]!;
    }
    return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
  }
}

/** The 64 children of a node path. */
export const childrenOf = (path: string): string[] => [...ALPHABET].map((c) => path + c);
