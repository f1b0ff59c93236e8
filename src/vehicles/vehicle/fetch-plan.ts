/**
 * Which files take a vehicle from the version it holds to the head's: a pure choice.
 *
 *   held version V in the head's chain (a delta with base V) ─> those deltas, in order
 *   otherwise (or when they weigh more than the snapshot route) ─> the snapshot, then its deltas
 *
 * The head (list/head.ts) names its newest snapshot and the deltas after it, each leading on from
 * the one before; a vehicle offline past that snapshot starts again from it.
 */
import type { FileRef, ListHead } from '../list/types.js';

export type FetchPlan = { kind: 'current' } | { kind: 'deltas'; files: FileRef[] } | { kind: 'snapshot'; files: FileRef[] };

const weight = (files: readonly FileRef[]): number => files.reduce((n, f) => n + f.bytes, 0);

/** The deltas of `deltas` from `version` on, or undefined when none leads on from it. */
function chainFrom(deltas: readonly FileRef[], version: number): FileRef[] | undefined {
  const i = deltas.findIndex((d) => d.base === version);
  if (i < 0) return undefined;
  const chain = deltas.slice(i);
  for (let j = 1; j < chain.length; j++) if (chain[j]!.base !== chain[j - 1]!.version) return undefined;
  return chain;
}

/** The plan for a verified head, holding `heldVersion` (null: nothing held). The caller refused replays already. */
export function planFetch(head: ListHead, heldVersion: number | null): FetchPlan {
  if (heldVersion === head.version) return { kind: 'current' };
  const fromSnapshot = [head.snapshot, ...(chainFrom(head.deltas, head.snapshot.version) ?? [])];
  const deltas = heldVersion === null ? undefined : chainFrom(head.deltas, heldVersion);
  if (deltas !== undefined && deltas.length > 0 && weight(deltas) <= weight(fromSnapshot)) return { kind: 'deltas', files: deltas };
  return { kind: 'snapshot', files: fromSnapshot };
}
