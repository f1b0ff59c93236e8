/**
 * The self-test: every ministry call hes-gate makes, once, against the configured
 * environment, with the operator's sample codes; each check ends PASS, FAIL or SKIP with what
 * was seen and what to do. Pure apart from the client it is given: no configuration, no
 * output, no files (the command does those), so tests run it against the simulator.
 *
 *   credentials ─┬─> single ─> plus ─> not-found ─> expired ─> bulk ─> bulk-plus
 *   (first call) │   ─> employee ─> visitor ─> latency
 *                └─ FAIL: every other check is SKIPped (they would fail the same way)
 */
import { performance } from 'node:perf_hooks';
import { HesGateError } from '../errors.js';
import type { BulkResult, MinistryClient, MinistryEndpoint } from '../ministry/types.js';
import { maskHesCode } from '../privacy/mask.js';
import type { Clock, MinistryLookup } from '../types.js';
import { diagnose } from './diagnose.js';
import type { CheckResult, SelftestCodes, TurkishText } from './types.js';

export interface SelftestOptions {
  codes: SelftestCodes;
  /** check-hes-code calls made by the latency check. @default 5 */
  latencyCalls?: number;
  /** The latency check fails when the median call takes longer, in ms. @default 1000 */
  latencyBudgetMs?: number;
  /** @default Date.now */
  clock?: Clock;
  onCheckStart?: (check: { id: string; title: string }, index: number, total: number) => void;
  onCheckEnd?: (result: CheckResult, index: number, total: number) => void;
}

export interface CallTiming {
  endpoint: MinistryEndpoint;
  durationMs: number;
}

export interface SelftestRun {
  checks: CheckResult[];
  /** Every call of the run that got an answer or an error, in order. */
  calls: CallTiming[];
}

/** A check's own verdict, in English and Turkish; a client error thrown from `run` becomes a FAIL by diagnosis. */
interface Verdict {
  outcome: 'PASS' | 'FAIL' | 'SKIP';
  reason: string;
  action?: string;
  errorCode?: string;
  tr: { reason: string; action?: string };
}

interface CheckDef {
  id: string;
  title: string;
  titleTr: string;
  endpoints: MinistryEndpoint[];
  run: () => Promise<Verdict>;
}

type Expected = 'RISKLESS' | 'RISKY' | 'not-found' | 'expired';

function seen(lookup: MinistryLookup): Expected {
  return lookup.kind === 'status' ? lookup.status : lookup.kind;
}

/** An answer in Turkish: the protocol's codes stay as they are (docs/sozluk.md), the findings are words. */
const SEEN_TR: ReadonlyMap<Expected, string> = new Map([
  ['RISKLESS', 'RISKLESS'],
  ['RISKY', 'RISKY'],
  ['not-found', 'bulunamadı'],
  ['expired', 'süresi dolmuş'],
]);
const seenTr = (e: Expected): string => SEEN_TR.get(e) ?? e;

const WRONG_SAMPLE =
  'the sample code does not answer as expected: check which code you gave for which option (--riskless, --risky, --not-found, --expired), or ask HES support for current test codes';
const WRONG_SAMPLE_TR =
  'örnek kod beklenen yanıtı vermiyor: hangi kodu hangi seçeneğe verdiğinizi denetleyin (--riskless, --risky, --not-found, --expired) ya da HES desteğinden güncel test kodları isteyin';
const TO_MAINTAINERS_TR = 'bu raporu hes-gate geliştiricilerine gönderin';

/** Nearest-rank percentile of durations (ms, rounded). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!);
}

export async function runSelftest(client: MinistryClient, options: SelftestOptions): Promise<SelftestRun> {
  const { codes } = options;
  const clock = options.clock ?? Date.now;
  const latencyCalls = options.latencyCalls ?? 5;
  const latencyBudgetMs = options.latencyBudgetMs ?? 1000;
  const calls: CallTiming[] = [];

  async function timed<T>(endpoint: MinistryEndpoint, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } finally {
      calls.push({ endpoint, durationMs: performance.now() - started });
    }
  }

  const single = (code: string): Promise<MinistryLookup> => timed('check-hes-code', () => client.checkHesCode(code));

  /** Compares answers with what each sample code should give; one line for all of them. */
  function compare(pairs: Array<[string, Expected, MinistryLookup | HesGateError | undefined]>, endpoint: MinistryEndpoint): Verdict {
    const parts: string[] = [];
    const partsTr: string[] = [];
    for (const [code, want, got] of pairs) {
      const masked = maskHesCode(code);
      if (got === undefined) {
        return {
          outcome: 'FAIL',
          reason: `${masked}: missing from the ${endpoint} answer`,
          action: 'send this report to the hes-gate maintainers',
          tr: { reason: `${masked}: ${endpoint} yanıtında yok`, action: TO_MAINTAINERS_TR },
        };
      }
      if (got instanceof HesGateError) {
        const d = diagnose(got);
        return { outcome: 'FAIL', reason: `${masked}: ${d.reason}`, action: d.action, errorCode: d.errorCode, tr: { reason: `${masked}: ${d.tr.reason}`, action: d.tr.action } };
      }
      const have = seen(got);
      if (have !== want) {
        return {
          outcome: 'FAIL',
          reason: `${masked} → ${have}, expected ${want}`,
          action: WRONG_SAMPLE,
          tr: { reason: `${masked} → ${seenTr(have)}, beklenen ${seenTr(want)}`, action: WRONG_SAMPLE_TR },
        };
      }
      if (got.kind === 'status' && want === 'RISKLESS' && got.expiresAt <= clock()) {
        const ended = new Date(got.expiresAt).toISOString().slice(0, 10);
        return {
          outcome: 'FAIL',
          reason: `${masked} → RISKLESS, but its sharing period ended ${ended}`,
          action: 'use a riskless sample code shared without a time limit',
          tr: { reason: `${masked} → RISKLESS, ama paylaşım süresi ${ended} tarihinde bitti`, action: 'süresiz paylaşılmış risksiz bir örnek kod kullanın' },
        };
      }
      parts.push(`${masked} → ${have}`);
      partsTr.push(`${masked} → ${seenTr(have)}`);
    }
    return { outcome: 'PASS', reason: parts.join(', '), tr: { reason: partsTr.join(', ') } };
  }

  const skip = (reason: string, action: string, tr: { reason: string; action: string }): Verdict => ({ outcome: 'SKIP', reason, action, tr });

  /** Known sample codes with the answer each should give, for the bulk checks. */
  const mix: Array<[string, Expected]> = [[codes.riskless, 'RISKLESS']];
  if (codes.risky !== undefined) mix.push([codes.risky, 'RISKY']);
  if (codes.notFound !== undefined) mix.push([codes.notFound, 'not-found']);
  if (codes.expired !== undefined) mix.push([codes.expired, 'expired']);
  const mixed = (answers: BulkResult): Array<[string, Expected, MinistryLookup | HesGateError | undefined]> =>
    mix.map(([code, want]) => [code, want, answers.get(code)]);

  const checks: CheckDef[] = [
    {
      id: 'credentials',
      title: 'Ministry reachable, credentials accepted',
      titleTr: 'Bakanlığa erişim, kimlik bilgilerinin kabulü',
      endpoints: ['check-hes-code'],
      run: async () => {
        const answer = seen(await single(codes.riskless));
        return {
          outcome: 'PASS',
          reason: `the ministry answered (${answer}): user name and password accepted`,
          tr: { reason: `Bakanlık yanıt verdi (${seenTr(answer)}): kullanıcı adı ve parola kabul edildi` },
        };
      },
    },
    {
      id: 'single',
      title: 'Single check',
      titleTr: 'Tekli sorgu',
      endpoints: ['check-hes-code'],
      run: async () => {
        const pairs: Array<[string, Expected, MinistryLookup]> = [[codes.riskless, 'RISKLESS', await single(codes.riskless)]];
        if (codes.risky !== undefined) pairs.push([codes.risky, 'RISKY', await single(codes.risky)]);
        return compare(pairs, 'check-hes-code');
      },
    },
    {
      id: 'plus',
      title: 'Plus check (vaccination, immunity, test fields)',
      titleTr: 'Plus sorgu (aşı, bağışıklık, test alanları)',
      endpoints: ['check-hes-code-plus'],
      run: async () => {
        const lookup = await timed('check-hes-code-plus', () => client.checkHesCodePlus(codes.riskless));
        const verdict = compare([[codes.riskless, 'RISKLESS', lookup]], 'check-hes-code-plus');
        if (verdict.outcome !== 'PASS') return verdict;
        if (lookup.kind === 'status' && lookup.plus !== undefined) {
          return { ...verdict, reason: `${verdict.reason}, plus fields present`, tr: { reason: `${verdict.tr.reason}, plus alanları var` } };
        }
        return {
          outcome: 'FAIL',
          reason: `${maskHesCode(codes.riskless)}: the answer has no plus fields`,
          action: 'check ministry.baseUrl; send this report to the hes-gate maintainers',
          tr: { reason: `${maskHesCode(codes.riskless)}: yanıtta plus alanları yok`, action: `ministry.baseUrl ayarını denetleyin; ${TO_MAINTAINERS_TR}` },
        };
      },
    },
    {
      id: 'not-found',
      title: 'Not-found handling',
      titleTr: 'Bulunamayan kod',
      endpoints: ['check-hes-code'],
      run: async () =>
        codes.notFound === undefined
          ? skip('no not-found sample code', 'give --not-found CODE (a code the environment does not know)', {
              reason: 'bulunamayan kod örneği verilmedi',
              action: '--not-found KOD verin (ortamın tanımadığı bir kod)',
            })
          : compare([[codes.notFound, 'not-found', await single(codes.notFound)]], 'check-hes-code'),
    },
    {
      id: 'expired',
      title: 'Expired handling',
      titleTr: 'Süresi dolmuş kod',
      endpoints: ['check-hes-code'],
      run: async () =>
        codes.expired === undefined
          ? skip('no expired sample code', 'give --expired CODE (a code whose sharing period has ended)', {
              reason: 'süresi dolmuş kod örneği verilmedi',
              action: '--expired KOD verin (paylaşım süresi bitmiş bir kod)',
            })
          : compare([[codes.expired, 'expired', await single(codes.expired)]], 'check-hes-code'),
    },
    {
      id: 'bulk',
      title: mix.length === 1 ? 'Bulk check (1 code)' : `Bulk check (${mix.length} codes, good and bad)`,
      titleTr: mix.length === 1 ? 'Toplu sorgu (1 kod)' : `Toplu sorgu (${mix.length} kod, iyi ve kötü)`,
      endpoints: ['check-hes-codes'],
      run: async () => compare(mixed(await timed('check-hes-codes', () => client.checkHesCodes(mix.map(([c]) => c)))), 'check-hes-codes'),
    },
    {
      id: 'bulk-plus',
      title: 'Bulk plus check',
      titleTr: 'Toplu plus sorgu',
      endpoints: ['check-hes-codes-plus'],
      run: async () =>
        compare(mixed(await timed('check-hes-codes-plus', () => client.checkHesCodesPlus(mix.map(([c]) => c)))), 'check-hes-codes-plus'),
    },
    {
      id: 'employee',
      title: 'Employee check',
      titleTr: 'Personel sorgusu',
      endpoints: ['check-employee-hes-code'],
      run: async () => {
        const code = codes.employee;
        if (code === undefined) {
          return skip('no employee code given', 'give --employee CODE if your gates check staff', {
            reason: 'personel kodu verilmedi',
            action: 'turnikeleriniz personeli de denetliyorsa --employee KOD verin',
          });
        }
        const answer = seen(await timed('check-employee-hes-code', () => client.checkEmployeeHesCode(code)));
        return { outcome: 'PASS', reason: `${maskHesCode(code)} → ${answer}`, tr: { reason: `${maskHesCode(code)} → ${seenTr(answer)}` } };
      },
    },
    {
      id: 'visitor',
      title: 'Visitor check',
      titleTr: 'Ziyaretçi sorgusu',
      endpoints: ['check-visitor-hes-code'],
      run: async () => {
        const visitor = codes.visitor;
        if (visitor === undefined) {
          return skip('no visitor details given', 'give --visitor CODE with --visitor-city, --visitor-district and --visitor-address if your gates check visitors', {
            reason: 'ziyaretçi bilgileri verilmedi',
            action: 'turnikeleriniz ziyaretçileri de denetliyorsa --visitor KOD ile birlikte --visitor-city, --visitor-district ve --visitor-address verin',
          });
        }
        const { code, ...details } = visitor;
        const answer = seen(await timed('check-visitor-hes-code', () => client.checkVisitorHesCode(code, details)));
        return { outcome: 'PASS', reason: `${maskHesCode(code)} → ${answer}`, tr: { reason: `${maskHesCode(code)} → ${seenTr(answer)}` } };
      },
    },
    {
      id: 'latency',
      title: `Latency (${latencyCalls} single checks)`,
      titleTr: `Gecikme (${latencyCalls} tekli sorgu)`,
      endpoints: ['check-hes-code'],
      run: async () => {
        const durations: number[] = [];
        for (let i = 0; i < latencyCalls; i++) {
          const started = performance.now();
          await single(codes.riskless);
          durations.push(performance.now() - started);
        }
        const p50 = percentile(durations, 0.5);
        const max = percentile(durations, 1);
        const reason = `${latencyCalls} calls: p50 ${p50} ms, max ${max} ms`;
        const reasonTr = `${latencyCalls} çağrı: p50 ${p50} ms, en çok ${max} ms`;
        if (p50 > latencyBudgetMs) {
          return {
            outcome: 'FAIL',
            reason: `${reason}, above ${latencyBudgetMs} ms`,
            action: 'the ministry is slow from this station: check the network path (proxy, link); gates keep deciding from the cache',
            tr: {
              reason: `${reasonTr}, ${latencyBudgetMs} ms sınırının üstünde`,
              action: 'Bakanlık bu istasyondan yavaş yanıt veriyor: ağ yolunu (vekil sunucu, hat) denetleyin; turnikeler önbellekten karar vermeye devam eder',
            },
          };
        }
        return { outcome: 'PASS', reason, tr: { reason: reasonTr } };
      },
    },
  ];

  const results: CheckResult[] = [];
  for (const [index, check] of checks.entries()) {
    const { id, title, endpoints } = check;
    const tr = (t: { reason: string; action?: string }): TurkishText => ({ title: check.titleTr, reason: t.reason, action: t.action ?? '' });
    options.onCheckStart?.({ id, title }, index, checks.length);
    const started = performance.now();
    let result: CheckResult;
    const gate = results[0];
    if (gate !== undefined && gate.outcome === 'FAIL') {
      result = { id, title, endpoints, outcome: 'SKIP', reason: 'not run: the first call failed', action: '', durationMs: 0, tr: tr({ reason: 'çalıştırılmadı: ilk çağrı başarısız oldu' }) };
    } else {
      try {
        const v = await check.run();
        result = { id, title, endpoints, outcome: v.outcome, reason: v.reason, action: v.action ?? '', durationMs: 0, tr: tr(v.tr) };
        if (v.errorCode !== undefined) result.errorCode = v.errorCode;
      } catch (err) {
        const d = diagnose(err);
        if (d.errorCode === 'HG_MINISTRY_AUTH' && index > 0) {
          // The first call was accepted: this endpoint is not open to this user.
          d.reason = `the ministry refused ${endpoints.join(', ')} for this user`;
          d.action = 'the account may not be authorised for this call: ask HES support to enable it';
          d.tr = {
            reason: `Bakanlık bu kullanıcıya ${endpoints.join(', ')} çağrısını kapattı`,
            action: 'hesap bu çağrı için yetkilendirilmemiş olabilir: HES desteğinden açılmasını isteyin',
          };
        }
        result = { id, title, endpoints, outcome: 'FAIL', reason: d.reason, action: d.action, errorCode: d.errorCode, durationMs: 0, tr: tr(d.tr) };
      }
      result.durationMs = Math.round(performance.now() - started);
    }
    results.push(result);
    options.onCheckEnd?.(result, index, checks.length);
  }
  return { checks: results, calls };
}
