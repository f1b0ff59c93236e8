/**
 * What hubs and stations write to the city's Redis, and the checks every reader applies.
 * Every value is sealed with the city key (city-key.ts); keys and hash fields are HMACs
 * (keyspace.ts). A value that does not open or does not parse is counted and dropped by its
 * reader, never applied and never fatal.
 *
 * The change stream (`hg:<kid>:changes`), one entry per batch:
 *   t=bindings  v=seal({ put: [{cardId, hesCode, profile}…], del: [cardId…], statuses?: {at, answers} })  src=<hub id>  n  s
 *   t=statuses  v=seal({ at, answers: [[code, answer]…], checked?: {after, through}, failed? })  src=<hub id>  f=<fencing token>  n  s
 *
 * Every stream entry is signed by the node that wrote it (identity/node-key.ts): `n` its sequence
 * number, `s` its Ed25519 signature over `hg1 <kid> <t> <src> <n>` and the sealed value `v`. The
 * signature covers the sealed text, never a plain code, so nothing it carries tells a code; a
 * reader checks it against the hub's registry of node keys (identity/trust.ts) before applying.
 * A bindings entry carries the new codes' statuses when the hub could ask the ministry for them
 * in the same write, so stations never ask for a card the moment it is bound.
 *
 * `checked` is how one rotation step says "all of these are still what you have" without
 * listing them: every bound code in (after, through] — code order, `through: null` meaning to
 * the last bound code — was asked at `at`, and its answer is unchanged unless it is listed in
 * `answers` (new or changed) or `failed` (not answered: keep what you had). A station re-stamps
 * the answers it holds for those codes with `at`.
 *
 * The lookup streams, one entry per ministry answer a node got for a code on a tap:
 *   hg:<kid>:lookups:<node>   t=lookup v=seal({ at, code, answer }) src=<node> n s   written by that node only
 *   hg:<kid>:lookups          the same fields, relayed by the lease holder (hub/lookup-relay.ts)
 * A station's answer that makes others stricter (RISKY, not found, expired) is relayed as it is;
 * a station's RISKLESS is never relayed: it is a hint the leader confirms with the ministry and
 * publishes itself.
 *
 * The snapshot hashes: `bindings` mac(card id) → seal(binding); `statuses` mac(code) → seal({ at, code, answer }).
 *
 * Answers never carry the ministry's plus fields (they may hold a name or identity number).
 */
import type { MinistryLookup } from '../types.js';
import type { BindingChanges, SharedBinding } from '../cards/store-types.js';
import { CARD_ID_PATTERN } from '../credentials/card-id.js';
import { isNormalizedHesCode } from '../credentials/hes-code.js';
import { isProfileName } from '../policy/card-profile.js';
import type { CheckedCodes as CheckedRange, SharedAnswer, SharedStatus } from '../status/types.js';
import type { CityKey } from './city-key.js';
import type { NodeKey } from './identity/node-key.js';

// The shapes the stages own (their contract with the city), re-exported for the city's parts.
export type { BindingChanges, SharedBinding } from '../cards/store-types.js';
export type { CheckedCodes as CheckedRange, SharedAnswer, SharedStatus } from '../status/types.js';

export interface StatusChanges {
  /** When the ministry answered, epoch ms. */
  at: number;
  answers: Array<[string, SharedAnswer]>;
  checked?: CheckedRange;
  failed?: string[];
}

/** What a signature covers, and the signature: checked by identity/trust.ts. */
export interface EntryProof {
  src: string;
  n: number;
  sig: string;
  message: string;
}

export type EntryType = 'bindings' | 'statuses' | 'lookup';

export type ChangeEntry = ({ type: 'bindings'; changes: BindingChanges; src: string } | { type: 'statuses'; changes: StatusChanges; src: string; fence: number }) & { proof: EntryProof | undefined };

/** This node as a signer: its id and key. */
export interface EntrySigner {
  nodeId: string;
  key: NodeKey;
}

/** Strip an answer to what the city shares (the status stage's `Answer` or a ministry lookup). */
export function sharedAnswer(a: MinistryLookup | { kind: 'unrecognised' }): SharedAnswer {
  return a.kind === 'status' ? { kind: 'status', status: a.status, expiresAt: a.expiresAt } : { kind: a.kind };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCode = isNormalizedHesCode;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkAnswer(v: unknown): SharedAnswer | undefined {
  if (!isObj(v)) return undefined;
  if (v.kind === 'not-found' || v.kind === 'expired' || v.kind === 'unrecognised') return { kind: v.kind };
  if (v.kind === 'status' && (v.status === 'RISKLESS' || v.status === 'RISKY') && isTime(v.expiresAt)) {
    return { kind: 'status', status: v.status, expiresAt: v.expiresAt };
  }
  return undefined;
}

function checkBinding(v: unknown): SharedBinding | undefined {
  if (!isObj(v) || typeof v.cardId !== 'string' || !CARD_ID_PATTERN.test(v.cardId) || !isCode(v.hesCode) || typeof v.profile !== 'string' || !isProfileName(v.profile)) return undefined;
  return { cardId: v.cardId, hesCode: v.hesCode, profile: v.profile };
}

function parse(key: CityKey, sealed: unknown, where: string): unknown {
  if (typeof sealed !== 'string') return undefined;
  const text = key.open(sealed, where);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function checkBindingChanges(v: unknown): BindingChanges | undefined {
  if (!isObj(v) || !Array.isArray(v.put) || !Array.isArray(v.del)) return undefined;
  const put: SharedBinding[] = [];
  for (const b of v.put) {
    const ok = checkBinding(b);
    if (ok === undefined) return undefined;
    put.push(ok);
  }
  if (!v.del.every((c) => typeof c === 'string' && CARD_ID_PATTERN.test(c))) return undefined;
  const out: BindingChanges = { put, del: v.del as string[] };
  if (v.statuses !== undefined) {
    const st = checkStatusChanges(v.statuses);
    if (st === undefined) return undefined;
    out.statuses = { at: st.at, answers: st.answers };
  }
  return out;
}

function checkStatusChanges(v: unknown): StatusChanges | undefined {
  if (!isObj(v) || !isTime(v.at) || !Array.isArray(v.answers)) return undefined;
  const answers: Array<[string, SharedAnswer]> = [];
  for (const pair of v.answers) {
    if (!Array.isArray(pair) || pair.length !== 2 || !isCode(pair[0])) return undefined;
    const a = checkAnswer(pair[1]);
    if (a === undefined) return undefined;
    answers.push([pair[0], a]);
  }
  const out: StatusChanges = { at: v.at, answers };
  if (v.checked !== undefined) {
    const c = v.checked;
    const bound = (x: unknown): x is string | null => x === null || isCode(x);
    if (!isObj(c) || !bound(c.after) || !bound(c.through)) return undefined;
    out.checked = { after: c.after, through: c.through };
  }
  if (v.failed !== undefined) {
    if (!Array.isArray(v.failed) || !v.failed.every(isCode)) return undefined;
    out.failed = v.failed as string[];
  }
  return out;
}

function checkSharedStatus(v: unknown): SharedStatus | undefined {
  if (!isObj(v) || !isTime(v.at) || !isCode(v.code)) return undefined;
  const answer = checkAnswer(v.answer);
  return answer === undefined ? undefined : { at: v.at, code: v.code, answer };
}

/** Redis returns an entry's fields as a flat [name, value, name, value…] list. */
function fieldsOf(flat: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!, flat[i + 1]!);
  return m;
}

/** The text a signature covers: the entry's type, signer, sequence and sealed value, in one key space. */
export function signedText(kid: string, type: EntryType, src: string, n: number, sealed: string): string {
  return `hg1 ${kid} ${type} ${src} ${n}\n${sealed}`;
}

/** Codec of one city's values under its key. `changes`, `lookups`, `bindings`, `statuses` are the key names (keyspace.ts). */
export class CityWire {
  constructor(
    private readonly key: CityKey,
    private readonly names: { changes: string; lookups: string; bindings: string; statuses: string },
    /** This node's signing key; entries written without one are refused by every reader. */
    private readonly signer?: EntrySigner,
  ) {}

  /** `src`, `n` and `s` fields of an entry of `type` with sealed value `sealed`. */
  #signed(type: EntryType, src: string, sealed: string): string[] {
    const signer = this.signer;
    if (signer === undefined || signer.nodeId !== src) return ['src', src];
    const n = signer.key.next();
    return ['src', src, 'n', String(n), 's', signer.key.sign(signedText(this.key.kid, type, src, n, sealed))];
  }

  #proof(type: EntryType, f: ReadonlyMap<string, string>): EntryProof | undefined {
    const src = f.get('src') ?? '';
    const n = Number(f.get('n'));
    const sig = f.get('s');
    const sealed = f.get('v');
    if (sig === undefined || sealed === undefined || !Number.isSafeInteger(n) || n <= 0) return undefined;
    return { src, n, sig, message: signedText(this.key.kid, type, src, n, sealed) };
  }

  /** XADD fields of a bindings batch. */
  bindingsEntry(changes: BindingChanges, src: string): string[] {
    const v = this.key.seal(JSON.stringify(changes), this.names.changes);
    return ['t', 'bindings', 'v', v, ...this.#signed('bindings', src, v)];
  }

  /** XADD fields of a statuses batch, written under fencing token `fence`. */
  statusesEntry(changes: StatusChanges, src: string, fence: number): string[] {
    const v = this.key.seal(JSON.stringify(changes), this.names.changes);
    return ['t', 'statuses', 'v', v, 'f', String(fence), ...this.#signed('statuses', src, v)];
  }

  /** A change stream entry, or undefined when it does not open or parse (count it and go on). `proof` is checked by the reader. */
  changeEntry(flat: readonly string[]): ChangeEntry | undefined {
    const f = fieldsOf(flat);
    const src = f.get('src') ?? '';
    const body = parse(this.key, f.get('v'), this.names.changes);
    if (f.get('t') === 'bindings') {
      const changes = checkBindingChanges(body);
      return changes === undefined ? undefined : { type: 'bindings', changes, src, proof: this.#proof('bindings', f) };
    }
    if (f.get('t') === 'statuses') {
      const changes = checkStatusChanges(body);
      const fence = Number(f.get('f'));
      return changes === undefined || !Number.isSafeInteger(fence) ? undefined : { type: 'statuses', changes, src, fence, proof: this.#proof('statuses', f) };
    }
    return undefined;
  }

  /** XADD fields of one shared ministry answer (sealed for the relayed stream, where readers open it). */
  lookupEntry(status: SharedStatus, src: string): string[] {
    const v = this.key.seal(JSON.stringify(status), this.names.lookups);
    return ['t', 'lookup', 'v', v, ...this.#signed('lookup', src, v)];
  }

  lookup(flat: readonly string[]): (SharedStatus & { src: string; proof: EntryProof | undefined }) | undefined {
    const f = fieldsOf(flat);
    const s = checkSharedStatus(parse(this.key, f.get('v'), this.names.lookups));
    return s === undefined ? undefined : { ...s, src: f.get('src') ?? '', proof: this.#proof('lookup', f) };
  }

  /** Hash field and sealed value of a binding in the snapshot. */
  bindingField(b: SharedBinding): [field: string, value: string] {
    const field = this.key.mac('card', b.cardId);
    return [field, this.key.seal(JSON.stringify(b), `${this.names.bindings}/${field}`)];
  }

  bindingFieldOf(cardId: string): string {
    return this.key.mac('card', cardId);
  }

  binding(field: string, sealed: string): SharedBinding | undefined {
    return checkBinding(parse(this.key, sealed, `${this.names.bindings}/${field}`));
  }

  /** Hash field and sealed value of a status in the snapshot. */
  statusField(s: SharedStatus): [field: string, value: string] {
    const field = this.key.mac('code', s.code);
    return [field, this.key.seal(JSON.stringify(s), `${this.names.statuses}/${field}`)];
  }

  statusFieldOf(code: string): string {
    return this.key.mac('code', code);
  }

  status(field: string, sealed: string): SharedStatus | undefined {
    return checkSharedStatus(parse(this.key, sealed, `${this.names.statuses}/${field}`));
  }
}
