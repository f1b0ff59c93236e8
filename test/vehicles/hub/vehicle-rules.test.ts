/**
 * The vehicles' Prometheus rules (ops/prometheus/rules/hes-gate-vehicles.yml): they parse and the
 * example configuration loads them, every alert is unit-tested firing and not firing and has its
 * runbook entry in docs/runbook.md (Turkish and English), and every metric they read is one a hub
 * publishing the vehicle list exports (src/ops/vehicle-metrics.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { vehicleMetrics } from '../../../src/ops/vehicle-metrics.js';
import { bareMetrics } from '../../city/ops/reports.js';
import { describeWith, exposedFamilies, isExposed, metricNames, OPS, PROMETHEUS_DIR, promtool } from '../../ops/promtool.js';

const RULES = join(PROMETHEUS_DIR, 'rules', 'hes-gate-vehicles.yml');
const rulesText = (): string => readFileSync(RULES, 'utf8');
const alerts = (): string[] => [...rulesText().matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]!);

describeWith('promtool', 'vehicle Prometheus rules', () => {
  it('parse, and the example configuration loads them', () => {
    const r = promtool(['check', 'rules', 'rules/hes-gate-vehicles.yml'], undefined, PROMETHEUS_DIR);
    expect(r.output).toContain(`SUCCESS: ${alerts().length} rules found`);
    expect(r.status, r.output).toBe(0);
    expect(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')).toContain('  - rules/hes-gate-vehicles.yml\n');
    expect(alerts()).toEqual(['HesGateVehicleListStale']);
  });

  it('pass their unit tests, each alert firing and not firing', () => {
    const r = promtool(['test', 'rules', 'tests/hes-gate-vehicles.test.yml'], undefined, PROMETHEUS_DIR);
    expect(r.output).toContain('SUCCESS');
    expect(r.status, r.output).toBe(0);
    const tests = readFileSync(join(PROMETHEUS_DIR, 'tests', 'hes-gate-vehicles.test.yml'), 'utf8');
    const evals = [...tests.matchAll(/alertname: (\S+)\n\s+exp_alerts:( \[\])?/g)];
    for (const name of alerts()) {
      expect(evals.some((m) => m[1] === name && m[2] === undefined), `${name} has a firing test`).toBe(true);
      expect(evals.some((m) => m[1] === name && m[2] === ' []'), `${name} has a not-firing test`).toBe(true);
    }
  });

  it('link every alert to its runbook entry, in both languages', async () => {
    const exported = await families();
    const runbook = readFileSync(join(OPS, '..', 'docs', 'runbook.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const name of alerts()) {
      const block = rulesText().slice(rulesText().indexOf(`- alert: ${name}\n`));
      const url = /runbook_url: "\{\{ with \$externalLabels\.hes_gate_docs_url \}\}\{\{ \. \}\}\{\{ else \}\}file:\/\/\/usr\/lib\/node_modules\/hes-gate\/docs\{\{ end \}\}\/runbook\.md#([^"]+)"/.exec(block)?.[1];
      expect(url, `${name} has a runbook_url`).toBe(name.toLowerCase());
      expect(anchors.has(url!), `docs/runbook.md has a heading for ${name}`).toBe(true);
      const entry = runbook.slice(runbook.indexOf(`## ${name}`)).split(/\n## /)[0]!;
      expect(entry, `${name}'s entry has Turkish and English`).toMatch(/\*\*TR\*\*[\s\S]*\*\*EN\*\*/);
      // Every metric the entry tells an operator to look at is one a hub exports (or the vehicle's own).
      for (const m of entry.matchAll(/`(hes_gate_vehicles_[a-z_]+)/g)) expect(exported.has(m[1]!), m[1]).toBe(true);
    }
  });

  it('read only metrics a hub publishing the vehicle list exports', async () => {
    const exported = await families();
    const missing = [...rulesText().matchAll(/expr: (.*)/g)].flatMap((m) => metricNames(m[1]!)).filter((n) => !isExposed(n, exported));
    expect(missing).toEqual([]);
  });
});

async function families(): Promise<Map<string, string>> {
  const m = bareMetrics();
  const now = Date.parse('2026-12-08T08:00:00Z');
  vehicleMetrics(m, {
    clock: () => now,
    report: () => ({
      publisher: { publishing: true, version: 3_000_000_004, issuedAt: now - 60_000, entries: 1200, versions: { snapshot: 1, delta: 3 }, lastBytes: { snapshot: 3000, delta: 80 }, unchanged: 2, failures: 0, lastBuildMs: 420 },
      notices: null,
      vehicles: [{ id: 'bus-34', revoked: false, lastUploadAt: now - 30_000, lastListIssuedAt: now - 7 * 3_600_000, lastListVersion: 3_000_000_001 }],
      maxListAgeMs: 21_600_000,
    }),
  });
  return exposedFamilies(await m.registry.metrics());
}
