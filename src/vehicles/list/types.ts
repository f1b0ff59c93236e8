/**
 * The vehicle list's contract (docs/vehicles.md): what a hub derives from the city's record so a
 * validator on a bus or ferry decides card taps offline, and what both sides agree on.
 *
 *   hub (lease holder)                                         vehicle
 *   ───────────────────                                        ───────
 *   bindings ⨝ statuses (its store, in a worker)               head  (hub, with the vehicle's token)
 *     └─> ListState: fingerprint → value, sorted               files (any static server; Range)
 *           ├─ snapshot file  every vehicles.snapshotEveryMs     └─> verify signature and digest
 *           └─ delta file     every vehicles.publishEveryMs         └─> apply in a worker ─> CardListIndex
 *   head: the latest version, its snapshot and the deltas since; signed
 *
 * A card is keyed by its *fingerprint*: the first `bits` bits of HMAC-SHA256 under the list key
 * of the canonical card id (list-key.ts). Never the card id, never the HES code; no QR part and no
 * plus field is in a list. A card not on the list is unbound; one whose fingerprint collides with
 * a listed card takes that card's value: `bits` is chosen so that happens to at most 1 in 10^6
 * taps of unlisted cards (bitsFor()).
 */

/**
 * The verdict class a listed card gets now, before the gate's own rules (repeat tap, hours):
 * `pass` (RISKLESS, valid until `validUntil`), `risky`, `expired`, `not-found` (the ministry does
 * not know its code), `unknown` (the hub holds no status for its code: the gate's outage policy
 * decides on board).
 */
export type EntryClass = 'pass' | 'risky' | 'expired' | 'not-found' | 'unknown';

/** What a listed card carries. Few distinct values exist; files store them once, in a palette. */
export interface EntryValue {
  cls: EntryClass;
  /**
   * For `pass`: when it stops holding, epoch ms rounded *down* to the minute (a vehicle stops a
   * code up to 59 s early, never late). null: not before the version's `issuedAt + horizonMs`,
   * the longest any vehicle may use the version. Always null for other classes.
   */
  validUntil: number | null;
  /** The card profile (`standard`, `senior`…): the gate's hours apply on board as at a station. */
  profile: string;
}

/**
 * A whole list at one version, sorted by fingerprint (ascending, no duplicates): `fps[i]` has
 * the value `palette[values[i]]`. Fingerprints are integers below 2^bits (bits ≤ 52), exact in
 * a double.
 */
export interface ListState {
  bits: number;
  fps: Float64Array;
  values: Uint16Array;
  palette: EntryValue[];
}

/** What changed from one version to the next: removed fingerprints, and added or changed ones with their values. */
export interface ListDelta {
  removed: Float64Array;
  upserted: Float64Array;
  /** `palette[values[i]]` for `upserted[i]`. */
  values: Uint16Array;
  palette: EntryValue[];
}

export type ListFileKind = 'snapshot' | 'delta';

/** The signed header of a list file. */
export interface ListHeader {
  format: 1;
  kind: ListFileKind;
  /** The list key's id: a vehicle with another key refuses the file. */
  keyId: string;
  /** Versions increase strictly; a delta leads from `base` to `version`. */
  version: number;
  /** null for a snapshot. */
  base: number | null;
  /** When the hub built this version (its clock, epoch ms): signed time a vehicle's clock is checked against. */
  issuedAt: number;
  /** How long after issuedAt a `validUntil: null` still holds (vehicles.horizonMs). */
  horizonMs: number;
  bits: number;
  /** Entries in the state this file produces. */
  count: number;
  /** sha256 (hex) of the resulting state (stateDigest()): checked after a delta is applied. */
  stateDigest: string;
}

/** One immutable, content-addressed file as the head names it. */
export interface FileRef {
  /** `<sha256 hex of the file's bytes>.hgvl` */
  name: string;
  bytes: number;
  version: number;
  base: number | null;
}

/** The head: the newest version, and how to reach it from a snapshot (signed by the hub). */
export interface ListHead {
  format: 1;
  keyId: string;
  version: number;
  issuedAt: number;
  horizonMs: number;
  /**
   * The newest snapshot, and kept deltas in order, ending at `version`: every delta since the
   * oldest kept snapshot, or (`GET …/head?after=V`) those from the one whose base is V. A
   * vehicle follows the chain from the version it holds, or takes the snapshot and the deltas
   * whose chain starts at its version.
   */
  snapshot: FileRef;
  deltas: FileRef[];
}

/** Why a vehicle refused a head or file; each is counted (`hes_gate_vehicle_list_refused_total{reason}`). */
export type RefusalReason =
  /** The signature does not verify under the configured public key. */
  | 'signature'
  /** The bytes do not match the name or size the head gave, or the state digest after applying. */
  | 'tampered'
  /** An older version than the one held, or a head older than the newest seen. */
  | 'replayed'
  /** Another list key (keyId), or a delta whose base is not the version held. */
  | 'mismatch'
  /** Not a list file at all (magic, format, lengths). */
  | 'malformed';
