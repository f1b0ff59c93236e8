/**
 * The self-test's vocabulary: the sample codes an operator supplies, one check's result, and
 * the report that goes with the step-5 e-mail to the ministry.
 *
 * Nothing here holds a full HES code or a credential once a report exists: results and
 * reports carry masked codes only (see privacy/mask.ts).
 */
import type { MinistryEndpoint, VisitorDetails } from '../ministry/types.js';

/** Sample codes for the run, normalised (10 upper-case letters/digits). Absent = skip its checks. */
export interface SelftestCodes {
  /** A code the environment answers RISKLESS: the one code every run needs. */
  riskless: string;
  risky?: string;
  notFound?: string;
  expired?: string;
  /** A staff member's code, for `check-employee-hes-code`. */
  employee?: string;
  /** A visitor's code and address, for `check-visitor-hes-code`. */
  visitor?: { code: string } & VisitorDetails;
}

export type CheckOutcome = 'PASS' | 'FAIL' | 'SKIP';

export interface CheckResult {
  /** Stable id (`credentials`, `single`, `plus`, `bulk`, …): scripts and tests match on it. */
  id: string;
  title: string;
  endpoints: MinistryEndpoint[];
  outcome: CheckOutcome;
  /** What was seen, in one line (masked codes only). */
  reason: string;
  /** What the operator does next; empty when there is nothing to do. */
  action: string;
  /** The coded error behind a FAIL, if any (for example HG_MINISTRY_AUTH). */
  errorCode?: string;
  durationMs: number;
  /**
   * Title, reason and action in Turkish (docs/sozluk.md's terms), for the report the ministry's
   * staff read; written beside the English where each is made, so the two say the same.
   */
  tr: TurkishText;
}

/** A check's words in Turkish; protocol values (`RISKLESS`, endpoint names) stay as they are. */
export interface TurkishText {
  title: string;
  reason: string;
  /** Empty when there is nothing to do. */
  action: string;
}

export interface LatencySummary {
  calls: number;
  p50Ms: number;
  maxMs: number;
}

export interface SelftestReport {
  tool: 'hes-gate selftest';
  version: string;
  /** ISO date of the run's start. */
  date: string;
  environment: string;
  /** Host (and port) and path prefix of the base URL: never credentials or a query. */
  ministry: { host: string; path: string };
  /** The ministry user name, partly masked (`ORG-****`). */
  user: string;
  result: 'PASS' | 'FAIL';
  summary: { pass: number; fail: number; skip: number };
  checks: CheckResult[];
  /** Every ministry call of the run, overall and by endpoint. */
  latency: LatencySummary & { byEndpoint: Partial<Record<MinistryEndpoint, LatencySummary>> };
}
