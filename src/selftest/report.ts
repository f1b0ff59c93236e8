/**
 * The self-test's report: what the operator reads on the terminal (a table) and what they
 * attach to the step-5 e-mail to the ministry (Markdown and JSON files). Built from a run and
 * a few facts about the environment; the base URL is reduced to host and path, the user name
 * is partly masked, and codes are already masked in the run's results.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MinistryEndpoint } from '../ministry/types.js';
import { percentile, type CallTiming, type SelftestRun } from './runner.js';
import type { LatencySummary, SelftestReport } from './types.js';
import { alignColumns } from '../text-table.js';

export interface ReportFacts {
  version: string;
  /** Start of the run (epoch ms). */
  startedAt: number;
  environment: string;
  baseUrl: string;
  user: string | null;
}

/** `ORG-TEST` → `ORG-****`: the organisation part stays, so the ministry can tell who wrote. */
export function maskUser(user: string | null): string {
  if (user === null || user === '') return '(unset)';
  const dash = user.indexOf('-');
  const keep = dash > 0 ? dash + 1 : Math.min(3, Math.floor(user.length / 2));
  return `${user.slice(0, keep)}****`;
}

/** Host and path of a base URL, without user info, query or fragment. */
export function ministryAddress(baseUrl: string): { host: string; path: string } {
  try {
    const u = new URL(baseUrl);
    return { host: u.host, path: u.pathname };
  } catch {
    return { host: '(invalid URL)', path: '' };
  }
}

function summarise(calls: readonly CallTiming[]): LatencySummary {
  const ms = calls.map((c) => c.durationMs);
  return { calls: ms.length, p50Ms: percentile(ms, 0.5), maxMs: percentile(ms, 1) };
}

export function buildReport(run: SelftestRun, facts: ReportFacts): SelftestReport {
  const count = (o: string): number => run.checks.filter((c) => c.outcome === o).length;
  const byEndpoint: Partial<Record<MinistryEndpoint, LatencySummary>> = {};
  for (const endpoint of new Set(run.calls.map((c) => c.endpoint))) {
    byEndpoint[endpoint] = summarise(run.calls.filter((c) => c.endpoint === endpoint));
  }
  const fail = count('FAIL');
  return {
    tool: 'hes-gate selftest',
    version: facts.version,
    date: new Date(facts.startedAt).toISOString(),
    environment: facts.environment,
    ministry: ministryAddress(facts.baseUrl),
    user: maskUser(facts.user),
    result: fail === 0 ? 'PASS' : 'FAIL',
    summary: { pass: count('PASS'), fail, skip: count('SKIP') },
    checks: run.checks,
    latency: { ...summarise(run.calls), byEndpoint },
  };
}

/** The terminal table: one row per check, then what to do for each FAIL and SKIP. */
export function renderText(report: SelftestReport): string {
  const rows = [['RESULT', 'CHECK', 'MS', 'DETAIL'], ...report.checks.map((c) => [c.outcome, c.id, String(c.durationMs), c.reason])];
  const todo = report.checks.filter((c) => c.action !== '').map((c) => `  ${c.id}: ${c.action}`);
  const { summary, latency } = report;
  return [
    `hes-gate selftest — ${report.environment} environment, ${report.ministry.host}${report.ministry.path}, user ${report.user}`,
    '',
    alignColumns(rows),
    '',
    ...(todo.length > 0 ? ['What to do:', ...todo, ''] : []),
    `Latency: ${latency.calls} calls, p50 ${latency.p50Ms} ms, max ${latency.maxMs} ms`,
    `${report.result}: ${summary.pass} passed, ${summary.fail} failed, ${summary.skip} skipped`,
  ].join('\n') + '\n';
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The Markdown report for the step-5 e-mail. */
export function renderMarkdown(report: SelftestReport): string {
  const { summary, latency } = report;
  const lines = [
    `# hes-gate self-test report — ${report.environment} environment`,
    '',
    `| | |`,
    `| --- | --- |`,
    `| Result | **${report.result}** (${summary.pass} passed, ${summary.fail} failed, ${summary.skip} skipped) |`,
    `| Environment | ${report.environment} |`,
    `| Ministry service | \`${report.ministry.host}${report.ministry.path}\` |`,
    `| User | \`${cell(report.user)}\` |`,
    `| hes-gate version | ${report.version} |`,
    `| Date (UTC) | ${report.date} |`,
    '',
    '## Checks',
    '',
    '| Result | Check | Calls | ms | Detail | What to do |',
    '| --- | --- | --- | ---: | --- | --- |',
    ...report.checks.map((c) => `| ${c.outcome} | ${cell(c.title)} | ${c.endpoints.map((e) => `\`${e}\``).join(', ')} | ${c.durationMs} | ${cell(c.reason)} | ${cell(c.action)} |`),
    '',
    '## Latency',
    '',
    '| Call | Calls | p50 ms | max ms |',
    '| --- | ---: | ---: | ---: |',
    ...Object.entries(latency.byEndpoint).map(([e, l]) => `| \`${e}\` | ${l.calls} | ${l.p50Ms} | ${l.maxMs} |`),
    `| all | ${latency.calls} | ${latency.p50Ms} | ${latency.maxMs} |`,
    '',
    'HES codes are shown masked (first four characters); no credentials are included.',
    '',
  ];
  return lines.join('\n');
}

/** `20240131T104500Z`: sortable and safe in a file name. */
function stamp(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Writes `selftest-report-<environment>-<timestamp>.{md,json}` into `dir`; returns both paths.
 * Two runs that end in the same second (a 503 rehearsal, then a 401 one) each keep their report:
 * the files are created exclusively, and a name already taken gets `-2`, `-3`, … before `.md`.
 */
export function writeReportFiles(report: SelftestReport, dir: string): { markdown: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, `selftest-report-${report.environment}-${stamp(report.date)}`);
  for (let n = 1; ; n++) {
    const base = n === 1 ? stem : `${stem}-${n}`;
    const paths = { markdown: `${base}.md`, json: `${base}.json` };
    if (!claim(paths.markdown, renderMarkdown(report))) continue;
    if (!claim(paths.json, `${JSON.stringify(report, null, 2)}\n`)) {
      // A JSON of that name without its Markdown twin: leave both names to it.
      rmSync(paths.markdown, { force: true });
      continue;
    }
    return paths;
  }
}

/** Create `file` with `text` only when no file has that name; false when one has. */
function claim(file: string, text: string): boolean {
  try {
    writeFileSync(file, text, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}
