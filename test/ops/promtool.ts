/**
 * Prometheus's own tools for the operations tests: `promtool` (rules, configs, metrics) and the
 * `prometheus` server, both from Debian's `prometheus` package. Outside CI a missing tool is a
 * loud skip; in CI it is a failure, because CI must install it (.ci/run does).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';

export const OPS = join(import.meta.dirname, '..', '..', 'ops');
export const PROMETHEUS_DIR = join(OPS, 'prometheus');
export const GRAFANA_DIR = join(OPS, 'grafana');

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
export const hasPromtool = has('promtool');
export const hasPrometheus = has('prometheus');

export function describeWith(tool: 'promtool' | 'prometheus', name: string, body: () => void): void {
  if (tool === 'promtool' ? hasPromtool : hasPrometheus) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it(`needs ${tool} (apt-get install -y prometheus)`, () => {
        throw new Error(`${tool} is not installed: the operations tests cannot run, and CI must not skip them`);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED "${name}": ${tool} is not installed (apt-get install -y prometheus) ***\n`);
  describe.skip(name, body);
}

export function promtool(args: string[], input?: string, cwd?: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { input, cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

/** Every panel query of the shipped Grafana dashboards. */
export function dashboardQueries(): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const file of ['city-overview.json', 'station.json']) {
    const dash = JSON.parse(readFileSync(join(GRAFANA_DIR, file), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    for (const p of dash.panels) for (const t of p.targets ?? []) out.push({ dashboard: file, panel: p.title, expr: t.expr });
  }
  return out;
}

/**
 * Whether a query reads the city tier's series (hes_gate_city_*, or city rules' records): a
 * standalone station does not export them, so test/ops/city-rules.test.ts checks those against
 * the city metrics instead.
 */
export function isCityQuery(expr: string): boolean {
  return /hes_gate_city_/.test(expr);
}

/** A dashboard query with Grafana's variables replaced by values Prometheus accepts. */
export function concrete(expr: string, station: string, rateWindow = '1m'): string {
  return expr.replaceAll('$__rate_interval', rateWindow).replaceAll('$station', station).replaceAll('$gate', '.*');
}

/** Names of the recording rules the shipped rules define. */
export function recordedNames(): string[] {
  const text = readFileSync(join(PROMETHEUS_DIR, 'rules', 'hes-gate-recording.yml'), 'utf8');
  return [...text.matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]!);
}

/** Alert names the shipped rules define. */
export function alertNames(): string[] {
  const text = readFileSync(join(PROMETHEUS_DIR, 'rules', 'hes-gate-alerts.yml'), 'utf8');
  return [...text.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]!);
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'le', 'inf', 'nan']);

/**
 * Metric names a PromQL expression reads: identifiers that are not functions (followed by a
 * parenthesis), not label names (inside braces or after by/without), not keywords.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values and strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/\b\d+(\.\d+)?(e[-+]?\d+)?\b/gi, ''); // numbers, 1e-9 included
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice(m.index! + word.length).trimStart();
    if (after.startsWith('(')) continue;
    if (PROMQL_WORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** Metric family names in a Prometheus text exposition (from its # TYPE lines). */
export function exposedFamilies(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Whether a series name belongs to an exposed family (histogram _bucket/_sum/_count included). */
export function isExposed(name: string, families: Map<string, string>): boolean {
  if (families.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && (families.get(base) === 'histogram' || families.get(base) === 'summary');
}
