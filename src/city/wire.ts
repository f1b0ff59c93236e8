/**
 * What hubs and stations write to the city's Redis, and the checks every reader applies.
 * Every value is sealed with the city key (city-key.ts); keys and hash fields are HMACs
 * (keyspace.ts). A value that does not open or does not parse is counted and dropped by its
 * reader, never applied and never fatal.
 *
 * The change stream (`hg:<kid>:changes`), one entry per batch:
 *   t=bindings  v=seal({ put: [{cardId, hesCode, profile}…], del: [cardId…] })                 src=<hub id>
 *   t=statuses  v=seal({ at, answers: [[code, answer]…], checked?: {after, through}, failed? })  src=<hub id>  f=<fencing token>
 *
 * `checked` is how one rotation step says "all of these are still what you have" without
 * listing them: every bound code in (after, through] — code order, `through: null` meaning to
 * the last bound code — was asked at `at`, and its answer is unchanged unless it is listed in
 * `answers` (new or changed) or `failed` (not answered: keep what you had). A station re-stamps
 * the answers it holds for those codes with `at`.
 *
 * The lookup stream (`hg:<kid>:lookups`), one entry per ministry answer a station got for a
 * code the hub does not refresh (typed and QR codes):
 *   v=seal({ at, code, answer })  src=<station id>
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

export type ChangeEntry = { type: 'bindings'; changes: BindingChanges; src: string } | { type: 'statuses'; changes: StatusChanges; src: string; fence: number };

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
  return { put, del: v.del as string[] };
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

/** Codec of one city's values under its key. `changes`, `lookups`, `bindings`, `statuses` are the key names (keyspace.ts). */
export class CityWire {
  constructor(
    private readonly key: CityKey,
    private readonly names: { changes: string; lookups: string; bindings: string; statuses: string },
  ) {}

  /** XADD fields of a bindings batch. */
  bindingsEntry(changes: BindingChanges, src: string): string[] {
    return ['t', 'bindings', 'v', this.key.seal(JSON.stringify(changes), this.names.changes), 'src', src];
  }

  /** XADD fields of a statuses batch, written under fencing token `fence`. */
  statusesEntry(changes: StatusChanges, src: string, fence: number): string[] {
    return ['t', 'statuses', 'v', this.key.seal(JSON.stringify(changes), this.names.changes), 'src', src, 'f', String(fence)];
  }

  /** A change stream entry, or undefined when it does not open or parse (count it and go on). */
  changeEntry(flat: readonly string[]): ChangeEntry | undefined {
    const f = fieldsOf(flat);
    const src = f.get('src') ?? '';
    const body = parse(this.key, f.get('v'), this.names.changes);
    if (f.get('t') === 'bindings') {
      const changes = checkBindingChanges(body);
      return changes === undefined ? undefined : { type: 'bindings', changes, src };
    }
    if (f.get('t') === 'statuses') {
      const changes = checkStatusChanges(body);
      const fence = Number(f.get('f'));
      return changes === undefined || !Number.isSafeInteger(fence) ? undefined : { type: 'statuses', changes, src, fence };
    }
    return undefined;
  }

  /** XADD fields of one shared ministry answer. */
  lookupEntry(status: SharedStatus, src: string): string[] {
    return ['v', this.key.seal(JSON.stringify(status), this.names.lookups), 'src', src];
  }

  lookup(flat: readonly string[]): (SharedStatus & { src: string }) | undefined {
    const f = fieldsOf(flat);
    const s = checkSharedStatus(parse(this.key, f.get('v'), this.names.lookups));
    return s === undefined ? undefined : { ...s, src: f.get('src') ?? '' };
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

  status(field: string, sealed: string): SharedStatus | undefined {
    return checkSharedStatus(parse(this.key, sealed, `${this.names.statuses}/${field}`));
  }
}
