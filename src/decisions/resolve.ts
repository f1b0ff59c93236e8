/**
 * Resolve: a credential becomes the HES code whose status decides it, or a finding.
 *
 *   card ─> canonical card id ─> binding ─> code (+ card profile)   | invalid | unbound
 *   qr   ─> AIM prefix stripped ─> code after the `|`               | invalid
 *   hes  ─> normalised code                                         | invalid
 *
 * Card ids and QR payloads are canonicalised once per tap. A reader's taps arrive canonical:
 * its profile's rules were applied when the frame was decoded (devices/reader.ts), so they are
 * taken as they are. A validator's text (no `reader`) is canonicalised here, with the
 * validator rules.
 */
import { stripAimPrefix, VALIDATOR_AIM_RULES } from '../credentials/aim-prefix.js';
import { canonicalCardId } from '../credentials/card-id.js';
import { hesCodeFromQr, normalizeHesCode } from '../credentials/hes-code.js';
import type { Resolution } from '../policy/decide.js';
import type { Credential } from '../types.js';

/** The binding store as a tap needs it, keyed by canonical card id. */
export interface BindingLookup {
  getBinding(cardId: string): { hesCode: string; profile: string } | undefined;
}

export interface Resolved {
  resolution: Resolution;
  /** The canonical card id of a card tap (for repeat-tap refusal); null otherwise or when invalid. */
  cardId: string | null;
}

const INVALID: Resolved = Object.freeze({ resolution: Object.freeze({ kind: 'invalid' as const }), cardId: null });

export function resolveCredential(credential: Credential, bindings: BindingLookup | undefined): Resolved {
  const fromReader = credential.reader !== undefined;
  if (credential.kind === 'card') {
    let cardId = credential.value;
    if (!fromReader) {
      const canonical = canonicalCardId(credential.value);
      if (!canonical.ok) return INVALID;
      cardId = canonical.id;
    }
    const binding = bindings?.getBinding(cardId);
    if (binding === undefined) return { resolution: { kind: 'unbound' }, cardId };
    return { resolution: { kind: 'code', code: binding.hesCode, profile: binding.profile }, cardId };
  }
  let code: string | null;
  if (credential.kind === 'qr') {
    let payload = credential.value;
    if (!fromReader) {
      const stripped = stripAimPrefix(payload, VALIDATOR_AIM_RULES);
      if (!stripped.ok) return INVALID;
      payload = stripped.payload;
    }
    code = hesCodeFromQr(payload);
  } else {
    code = normalizeHesCode(credential.value);
  }
  return code === null ? INVALID : { resolution: { kind: 'code', code }, cardId: null };
}
