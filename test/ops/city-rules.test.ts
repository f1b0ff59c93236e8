/**
 * The city tier's Prometheus rules and dashboard panels (ops/prometheus/rules/hes-gate-city.yml,
 * the hes_gate_city_* panels of ops/grafana): they parse, every alert is unit-tested firing and
 * not firing and has its entry in docs/city.md (Turkish and English), and every metric they read
 * is one the city metrics export (a station's and a hub's, from src/ops/city-metrics.ts) or a
 * city recording rule defines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cityMetrics } from '../../src/ops/city-metrics.js';
import { bareMetrics, hubReport, replicaReport } from '../city/ops/reports.js';
import { dashboardQueries, describeWith, exposedFamilies, isCityQuery, isExposed, metricNames, OPS, PROMETHEUS_DIR, promtool } from './promtool.js';

const RULES = join(PROMETHEUS_DIR, 'rules', 'hes-gate-city.yml');
const rulesText = (): string => readFileSync(RULES, 'utf8');
const cityAlerts = (): string[] => [...rulesText().matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]!);
const cityRecords = (): string[] => [...rulesText().matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]!);

describeWith('promtool', 'city tier Prometheus rules and panels', () => {
  it('parses the rules, and the city configuration loads them', () => {
    const r = promtool(['check', 'rules', 'rules/hes-gate-city.yml'], undefined, PROMETHEUS_DIR);
    expect(r.output).toContain(`SUCCESS: ${cityAlerts().length + cityRecords().length} rules found`);
    expect(r.status, r.output).toBe(0);
    expect(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')).toContain('  - rules/hes-gate-city.yml\n');
    expect(cityAlerts().sort()).toEqual(['HesGateCityDegraded', 'HesGateCityDivergence', 'HesGateCityFencedWrites', 'HesGateCityLagging', 'HesGateCityNoLeaseHolder', 'HesGateCityNotReconciled', 'HesGateCityRefusedEntries']);
  });

  it('passes the alert unit tests, each alert firing and not firing', () => {
    const r = promtool(['test', 'rules', 'tests/hes-gate-city.test.yml'], undefined, PROMETHEUS_DIR);
    expect(r.output).toContain('SUCCESS');
    expect(r.status, r.output).toBe(0);
    const tests = readFileSync(join(PROMETHEUS_DIR, 'tests', 'hes-gate-city.test.yml'), 'utf8');
    const evals = [...tests.matchAll(/alertname: (\S+)\n\s+exp_alerts:( \[\])?/g)];
    for (const name of cityAlerts()) {
      const mine = evals.filter((m) => m[1] === name);
      expect(mine.some((m) => m[2] === undefined), `${name} has a firing test`).toBe(true);
      expect(mine.some((m) => m[2] === ' []'), `${name} has a not-firing test`).toBe(true);
    }
  });

  it('links every city alert to its entry in docs/city.md, in both languages', () => {
    const doc = readFileSync(join(OPS, '..', 'docs', 'city.md'), 'utf8');
    const anchors = new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const name of cityAlerts()) {
      const block = rulesText().slice(rulesText().indexOf(`- alert: ${name}\n`));
      const url = /runbook_url: "\{\{ with \$externalLabels\.hes_gate_docs_url \}\}\{\{ \. \}\}\{\{ else \}\}file:\/\/\/usr\/lib\/node_modules\/hes-gate\/docs\{\{ end \}\}\/city\.md#([^"]+)"/.exec(block)?.[1];
      expect(url, `${name} has a runbook_url`).toBe(name.toLowerCase());
      expect(anchors.has(url!), `docs/city.md has a heading for ${name}`).toBe(true);
      const entry = doc.slice(doc.search(new RegExp(`^#{2,4} ${name}$`, 'm')));
      expect(entry.split(/\n#{2,4} /)[0], `${name}'s entry has Turkish and English`).toMatch(/\*\*TR\*\*[\s\S]*\*\*EN\*\*/);
    }
  });

  it('reads only metrics a station or a hub exports, or city recording rules define', async () => {
    const families = new Map<string, string>();
    for (const role of ['station', 'hub'] as const) {
      const m = bareMetrics();
      cityMetrics(m, { role, replica: () => replicaReport(), hub: () => (role === 'hub' ? hubReport() : null) });
      for (const [k, v] of exposedFamilies(await m.registry.metrics())) families.set(k, v);
    }
    const recorded = new Set(cityRecords());
    const queries = [
      ...dashboardQueries().filter((q) => isCityQuery(q.expr)).map((q) => ({ where: `${q.dashboard} / ${q.panel}`, expr: q.expr })),
      ...[...rulesText().matchAll(/expr: (.*)/g)].map((m) => ({ where: 'rules', expr: m[1]! })),
    ];
    expect(queries.length).toBeGreaterThan(15);
    const missing: string[] = [];
    for (const q of queries) {
      for (const name of metricNames(q.expr)) {
        if (recorded.has(name) || isExposed(name, families)) continue;
        missing.push(`${q.where}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
    // Both dashboards show the city.
    expect(new Set(dashboardQueries().filter((q) => isCityQuery(q.expr)).map((q) => q.dashboard))).toEqual(new Set(['city-overview.json', 'station.json']));
  });
});
