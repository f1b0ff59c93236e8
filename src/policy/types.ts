import type { UnavailablePolicy } from '../types.js';

/** A daily time window in the station's local time, `HH:MM` to `HH:MM` (end exclusive). */
export interface TimeWindow {
  from: string;
  to: string;
}

/**
 * What a gate requires beyond RISKLESS, from the ministry's "plus" fields (journeys that
 * required vaccination, recent immunity or a recent negative PCR test, from September 2021).
 * A field the holder did not consent to share (`null`) does not meet a requirement.
 */
export type Requirement = 'none' | 'vaccinated' | 'vaccinated-or-immune' | 'vaccinated-immune-or-tested';

/**
 * How one gate decides. Every field has a default in the configuration schema
 * (`gates.defaults`) and may be overridden per gate.
 */
export interface GatePolicy {
  /** The gate's answer deadline in ms, measured from when the credential arrived. @default 150 */
  deadlineMs: number;
  /** What to do when the ministry cannot answer in time and no fresh status is cached. @default 'last-known' */
  ministryUnavailable: UnavailablePolicy;
  /** With `last-known`: the oldest last-known status still used, in ms. @default 21600000 (6 h) */
  lastKnownMaxAgeMs: number;
  /** With `last-known`, when nothing usable is known: `deny` or `pass`. @default 'deny' */
  lastKnownFallback: 'deny' | 'pass';
  /** Second-tap refusal: the same card may not pass again within this many ms at gates of the same group. 0 = off. @default 0 */
  repeatTapWindowMs: number;
  /** Allowed travel windows per card profile (for example `senior`); a profile not listed travels any time. @default {} */
  profileHours: Record<string, TimeWindow[]>;
  /** What the gate requires beyond RISKLESS (asks the ministry's plus calls when not `none`). @default 'none' */
  requirement: Requirement;
  /** With `…-or-tested`: how old a negative PCR test may be, in ms. @default 259200000 (72 h) */
  negativeTestValidityMs: number;
  /** Offset of the station's local time from UTC in minutes (Türkiye: 180). @default 180 */
  utcOffsetMinutes: number;
}
