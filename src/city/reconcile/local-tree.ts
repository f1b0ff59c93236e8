/**
 * The digest tree of this node's own copy of the bindings (its SQLite store: a station's replica,
 * a hub's record), read a page at a time from the store's read-only connection and hashed in
 * slices of a few milliseconds with a turn of the event loop between them: a million rows take
 * a few seconds of background work and never hold a tap.
 *
 *   bindingsAfter(cursor, 200) ─> field = mac(card), tag = CityKey.tagWords ─> DigestTree.addWords
 *                              └─ rows of wanted leaves kept (the second pass of a repair)
 */
import type { BindingInput } from '../../cards/binding.js';
import type { CityKey } from '../city-key.js';
import { DigestTree, leafIndex } from './digest-tree.js';

const PAGE = 200;
const SLICE_MS = 2;

export interface RecordPages {
  bindingsAfter(afterCardId: string | undefined, limit: number): BindingInput[];
}

export interface LocalRow {
  cardId: string;
  hesCode: string;
  profile: string;
  field: string;
  tag: string;
}

/** A tag's two words, reused for every binding of a walk. */
const words = new Uint32Array(2);

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Walk every binding of `pages`: with `keep` null, the tree of all of them; otherwise only the
 * rows of the leaves in `keep` (leaf numbers), by leaf (the tree stays empty). `stillValid` is asked between slices; false stops the walk (undefined).
 */
export async function walkRecord(key: CityKey, pages: RecordPages, keep: ReadonlySet<number> | null, stillValid: () => boolean): Promise<{ tree: DigestTree; rows: Map<number, LocalRow[]> } | undefined> {
  const tree = new DigestTree();
  const rows = new Map<number, LocalRow[]>();
  let after: string | undefined;
  let since = performance.now();
  for (;;) {
    const page = pages.bindingsAfter(after, PAGE);
    if (page.length === 0) return { tree, rows };
    for (let i = 0; i < page.length; i++) {
      const b = page[i]!;
      if ((i & 7) === 7 && performance.now() - since >= SLICE_MS) {
        await turn();
        since = performance.now();
        if (!stillValid()) return undefined;
      }
      const profile = b.profile ?? 'standard';
      const field = key.mac('card', b.cardId);
      const leaf = leafIndex(field);
      if (keep === null) {
        key.tagWords(field, b.hesCode, profile, words, 0);
        tree.addWords(leaf, words[0]!, words[1]!);
      } else if (keep.has(leaf)) {
        // The second walk of a repair: only the rows of the leaves that differ are tagged and kept.
        const tag = key.tag(field, b.hesCode, profile);
        let list = rows.get(leaf);
        if (list === undefined) rows.set(leaf, (list = []));
        list.push({ cardId: b.cardId, hesCode: b.hesCode, profile, field, tag });
      }
    }
    after = page[page.length - 1]!.cardId;
    if (performance.now() - since >= SLICE_MS) {
      await turn();
      since = performance.now();
      if (!stillValid()) return undefined;
    }
  }
}
