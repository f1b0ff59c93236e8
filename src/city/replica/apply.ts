/**
 * Applying what XREAD returned, strictly in stream order.
 *
 *   change entry ── opens/parses? ──no──> malformed++ (the position moves past it)
 *        │ yes
 *        ├─ signed by a registered, unrevoked hub, not replayed? ──no──> refused (trust.ts counts why; the position moves past it)
 *        ├─ bindings ─> their statuses (asked in the same write) ─> status.ingestShared(…, persist)
 *        │           ─> store.applyCityBindings(changes, position)   one transaction with the position
 *        └─ statuses ─> status.ingestShared(answers, persist)          held and persisted
 *                       checked range ─> store.codesBetween − answers − failed ─> status.confirm(at)
 *                       position saved once after a run of them (saveCityPosition is ordered after
 *                       the status writes it follows, so a restart never skips an unsaved status)
 *   lookup entry ─> not ours ─> signed by a registered, unrevoked node, not replayed, and a station's only
 *                   when it makes us stricter (RISKLESS rests on a hub's word alone) ─> status.ingestShared(…, persist false)
 *
 * The position in memory moves with each entry applied; a failure stops the batch there, and
 * the reader retries from that position: an entry is applied once, never skipped.
 */
import type { CityPosition, ReplicaStatus, ReplicaStore } from '../types.js';
import type { Trust } from '../identity/trust.js';
import type { CityWire, SharedAnswer, SharedStatus, StatusChanges } from '../wire.js';

/** [id, flat fields] as XREAD returns them. */
export type StreamEntry = [id: string, fields: string[]];

export interface ApplyCounters {
  malformed: number;
  entriesApplied: number;
  lookupsApplied: number;
}

export interface ApplyTarget {
  wire: CityWire;
  store: ReplicaStore;
  status: ReplicaStatus;
  counters: ApplyCounters;
  nodeId: string;
  trust: Trust;
  clock: () => number;
}

/** A shared answer dated further ahead than this is refused: it would outrank every true answer after it. */
export const FUTURE_SKEW_MS = 60_000;

/** Whether an answer lets a passenger through: only a hub's word may carry one to another station. */
export const isPass = (a: SharedAnswer): boolean => a.kind === 'status' && a.status === 'RISKLESS';

/** Codes asked per codesBetween call while confirming a checked range. */
const RANGE_PAGE = 1000;
/** Synchronous work between two yields to the event loop, ms: taps run in between. */
const SLICE_MS = 5;

/** Gives the event loop a turn when this run of synchronous work has taken its slice. */
export class Slicer {
  #since = performance.now();

  async yield(): Promise<void> {
    if (performance.now() - this.#since < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#since = performance.now();
  }
}

async function confirmChecked(t: ApplyTarget, c: StatusChanges, slicer: Slicer): Promise<void> {
  if (c.checked === undefined) return;
  const skip = new Set<string>(c.failed ?? []);
  for (const [code] of c.answers) skip.add(code);
  const through = c.checked.through;
  let after = c.checked.after;
  for (;;) {
    const codes = await t.store.codesBetween({ after, through }, RANGE_PAGE);
    const same = skip.size === 0 ? codes : codes.filter((code) => !skip.has(code));
    if (same.length > 0) t.status.confirm(same, c.at);
    if (codes.length < RANGE_PAGE) return;
    after = codes[codes.length - 1]!;
    await slicer.yield();
  }
}

/** Told of every step, so the reader's position is right even when a later entry fails. */
export interface Progress {
  /** Applied through `p` (in memory: the status service, or the store with its position). */
  moved(p: CityPosition): void;
  /** `p` is persisted in the store. */
  saved(p: CityPosition): void;
}

/**
 * Apply change entries after `start`; returns the position after the last one applied.
 * Throws (a store failure) with `progress` already told of every entry applied before it.
 */
export async function applyChanges(t: ApplyTarget, entries: readonly StreamEntry[], start: CityPosition, progress: Progress): Promise<CityPosition> {
  const slicer = new Slicer();
  let position = start;
  /** The position moved by statuses or malformed entries and not saved yet. */
  let unsaved = false;
  for (const [id, fields] of entries) {
    const next: CityPosition = { ...position, changesId: id, changesSeq: position.changesSeq + 1 };
    const entry = t.wire.changeEntry(fields);
    if (entry === undefined) {
      t.counters.malformed++;
      unsaved = true;
    } else if (!(await t.trust.verify(entry.proof, ['hub'], `changes/${id}`)).ok) {
      unsaved = true;
    } else if (entry.type === 'bindings') {
      const st = entry.changes.statuses;
      if (st !== undefined && st.answers.length > 0) t.status.ingestShared(st.answers.map(([code, answer]): SharedStatus => ({ at: st.at, code, answer })), true);
      await t.store.applyCityBindings(entry.changes, next);
      unsaved = false;
      t.counters.entriesApplied++;
      progress.saved(next);
    } else {
      const c = entry.changes;
      if (c.answers.length > 0) t.status.ingestShared(c.answers.map(([code, answer]): SharedStatus => ({ at: c.at, code, answer })), true);
      await confirmChecked(t, c, slicer);
      unsaved = true;
      t.counters.entriesApplied++;
    }
    position = next;
    progress.moved(position);
    await slicer.yield();
  }
  if (unsaved) {
    await t.store.saveCityPosition(position);
    progress.saved(position);
  }
  return position;
}

/** Apply other nodes' shared lookups (held in memory only: a restart asks the ministry again). */
export async function applyLookups(t: ApplyTarget, entries: readonly StreamEntry[]): Promise<void> {
  const slicer = new Slicer();
  const batch: SharedStatus[] = [];
  const now = t.clock();
  for (const [id, fields] of entries) {
    const l = t.wire.lookup(fields);
    if (l === undefined) t.counters.malformed++;
    else if (l.src !== t.nodeId) {
      const v = await t.trust.verify(l.proof, ['station', 'hub'], `lookups/${id}`);
      // A station's RISKLESS in the relayed stream did not come through the relay (it never relays one).
      if (v.ok && ((v.role === 'station' && isPass(l.answer)) || l.at > now + FUTURE_SKEW_MS)) t.trust.refused.forged++;
      else if (v.ok) batch.push({ at: l.at, code: l.code, answer: l.answer });
    }
    await slicer.yield();
  }
  if (batch.length > 0) t.status.ingestShared(batch, false);
  t.counters.lookupsApplied += batch.length;
}
