/**
 * A card binding — canonical card id → HES code and card profile — and the checks every way
 * in (import, admin API) applies before a binding reaches the store.
 */
import { normalizeHesCode } from '../credentials/hes-code.js';
import { canonicalCardId } from '../credentials/card-id.js';
import { PROFILE_PATTERN } from '../policy/card-profile.js';

/** A binding as stored. Times are epoch ms. */
export interface CardBinding {
  /** Canonical card id (upper-case hex, no separators). */
  cardId: string;
  /** Normalised HES code (10 upper-case letters/digits). */
  hesCode: string;
  /** Card profile: a short lower-case word such as `standard`, `student`, `senior`. */
  profile: string;
  /** When the binding was created or last changed. */
  updatedAt: number;
}

/** A binding to write: already canonical (see `checkBinding`); the store stamps `updatedAt`. */
export interface BindingInput {
  cardId: string;
  hesCode: string;
  /** @default 'standard' */
  profile?: string;
}

export const DEFAULT_PROFILE = 'standard';

/**
 * Normalise a card profile: trimmed, lower-cased, empty → `standard`.
 * Returns null when it is not a short word.
 */
export function normalizeProfile(input: string | undefined | null): string | null {
  if (input === undefined || input === null) return DEFAULT_PROFILE;
  const p = input.trim().toLowerCase();
  if (p === '') return DEFAULT_PROFILE;
  return PROFILE_PATTERN.test(p) ? p : null;
}

export type BindingProblem = 'CARD_ID_INVALID' | 'HES_CODE_INVALID' | 'PROFILE_INVALID';

/** Canonicalise the three fields of a binding, or name the first one that is wrong. */
export function checkBinding(
  cardId: string,
  hesCode: string,
  profile?: string | null,
): { ok: true; binding: Required<BindingInput> } | { ok: false; problem: BindingProblem } {
  const id = canonicalCardId(cardId);
  if (!id.ok) return { ok: false, problem: 'CARD_ID_INVALID' };
  const code = normalizeHesCode(hesCode);
  if (code === null) return { ok: false, problem: 'HES_CODE_INVALID' };
  const p = normalizeProfile(profile);
  if (p === null) return { ok: false, problem: 'PROFILE_INVALID' };
  return { ok: true, binding: { cardId: id.id, hesCode: code, profile: p } };
}
