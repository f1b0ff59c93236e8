/**
 * The bodies the ministry sends, as strings, in the shapes of the G2G protocol. A code's answers
 * are serialised once when it is added (`prepareCode`), so answering costs a map lookup and a
 * write; bulk answers are concatenated from the prepared pieces.
 */
import { MINISTRY_BULK_LIMIT, type MinistryEndpoint } from '../ministry/types.js';
import type { SampleCode } from './sample-codes.js';
import { NO_LIMIT_EXPIRY } from './sample-codes.js';

/** The prepared answers of a code the simulator knows, or undefined ("not found"). */
export type CodeLookup = (code: string) => PreparedCode | undefined;

export interface PreparedCode {
  /** null: the code answers 200 with `single`/`plus`; otherwise 400 with this errorKey. */
  errorKey: string | null;
  /** JSON of a one-result answer, or of the 400 problem body when errorKey is set. */
  single: string;
  /** JSON of a plus answer, or of the 400 problem body when errorKey is set. */
  plus: string;
}

const PROBLEM_TYPE = 'https://www.jhipster.tech/problem/problem-with-message';
const TITLES: ReadonlyMap<string, string> = new Map([
  ['hescodenotfound', 'HES kodu bulunamadı'],
  ['hescodehasbeenexpired', 'HES kodunun süresi dolmuş'],
]);

/** 400 problem body for a code (Spring/JHipster `BadRequestAlertException` shape). */
function codeProblem(errorKey: string): string {
  return JSON.stringify({
    entityName: 'hescode',
    errorKey,
    type: PROBLEM_TYPE,
    title: TITLES.get(errorKey) ?? errorKey,
    status: 400,
    message: `error.${errorKey}`,
    params: 'hescode',
  });
}

/** A generic problem body (401, 404, 405, 429, 5xx). */
export function httpProblem(status: number, title: string, detail: string, path: string): string {
  return JSON.stringify({ type: PROBLEM_TYPE, title, status, detail, path, message: `error.http.${status}` });
}

/** 400 for a request body that misses required fields (JHipster `constraint-violation`). */
function validationProblem(path: string, objectName: string, fields: readonly string[]): string {
  return JSON.stringify({
    type: 'https://www.jhipster.tech/problem/constraint-violation',
    title: 'Method argument not valid',
    status: 400,
    path,
    message: 'error.validation',
    fieldErrors: fields.map((field) => ({ objectName, field, message: 'NotBlank' })),
  });
}

const NOT_FOUND_PROBLEM = codeProblem('hescodenotfound');

export function prepareCode(c: SampleCode): PreparedCode {
  if (c.errorKey !== undefined) {
    const problem = codeProblem(c.errorKey);
    return { errorKey: c.errorKey, single: problem, plus: problem };
  }
  const result = {
    current_health_status: c.status,
    expiration_date: c.expirationDate ?? NO_LIMIT_EXPIRY,
    masked_identity_number: c.maskedIdentity ?? '********792',
    masked_firstname: c.maskedFirstname ?? 'DE****',
    masked_lastname: c.maskedLastname ?? 'DE**** ',
  };
  const p = c.plus ?? {};
  const plus = {
    ...result,
    is_vaccinated: p.is_vaccinated ?? null,
    is_immune: p.is_immune ?? null,
    is_test_data_shared: p.is_test_data_shared ?? null,
    last_negative_test_date: p.last_negative_test_date ?? null,
  };
  return { errorKey: null, single: JSON.stringify(result), plus: JSON.stringify(plus) };
}

/** `{"success_map":{…},"unsuccess_map":{…}}`; unknown codes are "hescodenotfound". */
function bulkAnswer(codes: readonly string[], lookup: CodeLookup, plus: boolean): string {
  let ok = '';
  let failed = '';
  for (const code of codes) {
    const key = JSON.stringify(code);
    const p = lookup(code);
    if (p !== undefined && p.errorKey === null) {
      ok += `${ok === '' ? '' : ','}${key}:${plus ? p.plus : p.single}`;
    } else {
      failed += `${failed === '' ? '' : ','}${key}:${JSON.stringify(p?.errorKey ?? 'hescodenotfound')}`;
    }
  }
  return `{"success_map":{${ok}},"unsuccess_map":{${failed}}}`;
}

/** The codes a request body names (`{"hes_code"}` or `[{"hes_code"}, …]`), in order. */
export function requestCodes(body: unknown, bulk: boolean): string[] {
  if (bulk) {
    if (!Array.isArray(body)) return [];
    const out: string[] = [];
    for (const item of body) {
      const c = (item as { hes_code?: unknown } | null)?.hes_code;
      if (typeof c === 'string') out.push(c);
    }
    return out;
  }
  const c = (body as { hes_code?: unknown } | null | undefined)?.hes_code;
  return typeof c === 'string' ? [c] : [];
}

const SINGLE_FIELDS = ['hes_code'] as const;
const VISITOR_FIELDS = ['hes_code', 'city', 'district', 'explicit_address'] as const;

function missing(body: unknown, fields: readonly string[]): string[] {
  const b = (body ?? {}) as Record<string, unknown>;
  return fields.filter((f) => typeof b[f] !== 'string' || (b[f] as string).trim() === '');
}

/** The ministry's answer (status, body) to a well-authenticated request, faults aside. */
export function ministryAnswer(
  endpoint: MinistryEndpoint,
  path: string,
  body: unknown,
  codes: readonly string[],
  lookup: CodeLookup,
): [number, string] {
  if (endpoint === 'check-hes-codes' || endpoint === 'check-hes-codes-plus') {
    if (!Array.isArray(body) || codes.length !== body.length) return [400, validationProblem(path, 'hesCodeRequest', SINGLE_FIELDS)];
    if (codes.length > MINISTRY_BULK_LIMIT) return [400, codeProblem('maxhescodecountexceeded')];
    return [200, bulkAnswer(codes, lookup, endpoint === 'check-hes-codes-plus')];
  }
  const visitor = endpoint === 'check-visitor-hes-code';
  const lacking = missing(body, visitor ? VISITOR_FIELDS : SINGLE_FIELDS);
  if (lacking.length > 0) return [400, validationProblem(path, visitor ? 'visitorHesCodeRequest' : 'hesCodeRequest', lacking)];
  const p = lookup(codes[0] as string);
  if (p === undefined) return [400, NOT_FOUND_PROBLEM];
  return [p.errorKey === null ? 200 : 400, endpoint === 'check-hes-code-plus' ? p.plus : p.single];
}
