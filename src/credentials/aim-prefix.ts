/**
 * The AIM symbology identifier a scanner may put before its data: `]` + code letter +
 * modifier, e.g. `]Q1` (QR Code). Stripped here and nowhere else: a reader's profile says
 * whether its scanner sends one and which symbologies it accepts (devices/*.json `qr`);
 * a validator's QR text gets VALIDATOR_AIM_RULES.
 */

export interface AimRules {
  /** Whether the scanner sends an identifier: stripped when present; `required` rejects its absence. */
  aimPrefix: 'none' | 'optional' | 'required';
  /** Code letters accepted when an identifier is present (`Q` = QR Code, `d` = Data Matrix), or any. */
  symbologies: readonly string[] | 'any';
}

/** Validators send what their scanner read: an identifier may be there, of any symbology. */
export const VALIDATOR_AIM_RULES: AimRules = Object.freeze({ aimPrefix: 'optional', symbologies: 'any' });

export type AimResult = { ok: true; payload: string } | { ok: false; why: 'symbology' };

const AIM = /^\]([A-Za-z])[0-9A-Za-z]/;

/** The payload without its identifier, or `symbology` when the identifier is missing or not accepted. */
export function stripAimPrefix(text: string, rules: AimRules): AimResult {
  if (rules.aimPrefix === 'none') return { ok: true, payload: text };
  const aim = AIM.exec(text);
  if (aim === null) return rules.aimPrefix === 'required' ? { ok: false, why: 'symbology' } : { ok: true, payload: text };
  if (rules.symbologies !== 'any' && !rules.symbologies.includes(aim[1] as string)) return { ok: false, why: 'symbology' };
  return { ok: true, payload: text.slice(3) };
}
