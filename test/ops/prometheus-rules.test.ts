/**
 * The shipped Prometheus rules and Grafana dashboards, checked with Prometheus's own tools:
 * rules and configs parse, every alert has unit tests firing and not firing and a runbook
 * entry, every dashboard query parses as PromQL and reads only metrics that a running station's
 * /metrics exports (or that the recording rules define), and /metrics passes `promtool check metrics`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGate } from '../http/helpers.js';
import { describeSerial, Peer, startPtyPair, type PtyPair } from '../devices/pty.js';
import {
  alertNames,
  concrete,
  dashboardQueries,
  describeWith,
  exposedFamilies,
  isCityQuery,
  isExposed,
  metricNames,
  OPS,
  PROMETHEUS_DIR,
  promtool,
  recordedNames,
} from './promtool.js';

describeWith('promtool', 'shipped Prometheus rules', () => {
  it('parses the recording and alert rules', () => {
    const r = promtool(['check', 'rules', 'rules/hes-gate-recording.yml', 'rules/hes-gate-alerts.yml'], undefined, PROMETHEUS_DIR);
    expect(r.output).toContain('SUCCESS: 7 rules found');
    expect(r.status, r.output).toBe(0);
  });

  it('parses the example city and federation configurations', () => {
    for (const file of ['prometheus.yml', 'federation.yml']) {
      const r = promtool(['check', 'config', file], undefined, PROMETHEUS_DIR);
      expect(r.status, r.output).toBe(0);
    }
  });

  it('passes the alert unit tests', () => {
    const r = promtool(['test', 'rules', 'tests/hes-gate-alerts.test.yml'], undefined, PROMETHEUS_DIR);
    expect(r.output).toContain('SUCCESS');
    expect(r.status, r.output).toBe(0);
  });

  it('unit-tests every alert both firing and not firing', () => {
    const tests = readFileSync(join(PROMETHEUS_DIR, 'tests', 'hes-gate-alerts.test.yml'), 'utf8');
    const evals = [...tests.matchAll(/alertname: (\S+)\n\s+exp_alerts:( \[\])?/g)];
    for (const name of alertNames()) {
      const mine = evals.filter((m) => m[1] === name);
      expect(mine.some((m) => m[2] === undefined), `${name} has a firing test`).toBe(true);
      expect(mine.some((m) => m[2] === ' []'), `${name} has a not-firing test`).toBe(true);
    }
  });

  it('links every alert to its runbook entry, in both languages', () => {
    const rules = readFileSync(join(PROMETHEUS_DIR, 'rules', 'hes-gate-alerts.yml'), 'utf8');
    const runbook = readFileSync(join(OPS, '..', 'docs', 'runbook.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const name of alertNames()) {
      const block = rules.slice(rules.indexOf(`- alert: ${name}\n`));
      // Absolute: the base is the external label hes_gate_docs_url, else the packaged docs (docs/operations.md).
      const url = /runbook_url: "\{\{ with \$externalLabels\.hes_gate_docs_url \}\}\{\{ \. \}\}\{\{ else \}\}file:\/\/\/usr\/lib\/node_modules\/hes-gate\/docs\{\{ end \}\}\/runbook\.md#([^"]+)"/.exec(block)?.[1];
      expect(url, `${name} has a runbook_url`).toBe(name.toLowerCase());
      expect(anchors.has(url!), `docs/runbook.md has a heading for ${name}`).toBe(true);
      const entry = runbook.slice(runbook.indexOf(`## ${name}`));
      expect(entry, `${name}'s runbook entry has Turkish and English`).toMatch(/\*\*TR\*\*[\s\S]*\*\*EN\*\*/);
    }
  });

  it('parses every dashboard query as PromQL', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-dash-'));
    const file = join(dir, 'dashboard-queries.yml');
    const rules = queries.map((q, i) => `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(concrete(q.expr, 'kadikoy'))}`).join('\n');
    writeFileSync(file, `groups:\n  - name: dashboard-queries\n    rules:\n${rules}\n`);
    const r = promtool(['check', 'rules', file]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  it('reads metric names out of PromQL', () => {
    expect(metricNames('sum by (gate, le) (rate(hes_gate_x_bucket{station="a:b", gate=~"$gate"}[5m])) / on (station) up')).toEqual(['hes_gate_x_bucket', 'up']);
    expect(metricNames('count(ALERTS{alertstate="firing"}) or vector(0)')).toEqual(['ALERTS']);
  });
});

describeWith('promtool', 'metrics a station exports', () => {
  describeSerial('with a reader and a gate controller', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-metrics-'));
    const pairs: PtyPair[] = [];
    let peers: Peer[] = [];
    let t: Awaited<ReturnType<typeof startTestGate>>;
    let exposition = '';

    beforeAll(async () => {
      pairs.push(await startPtyPair(join(dir, 'card'), join(dir, 'card-peer')));
      pairs.push(await startPtyPair(join(dir, 'gate'), join(dir, 'gate-peer')));
      t = await startTestGate({
        refresher: { enabled: false },
        gates: {
          list: [
            {
              id: 'N1',
              readers: [{ id: 'N1/card', path: join(dir, 'card'), profile: 'hex-uid' }],
              controller: { path: join(dir, 'gate'), profile: 'text-gate', passage: 'A' },
            },
          ],
        },
      });
      peers = [await Peer.open(join(dir, 'card-peer')), await Peer.open(join(dir, 'gate-peer'))];
      await t.post({ gate: 'N1', hesCode: 'A1B2-3456-78' });
      await t.post({ gate: 'not-configured', hesCode: 'A1B2-3456-78' });
      exposition = await (await fetch(`${t.url}/metrics`)).text();
    });

    afterAll(async () => {
      await t?.gate.close();
      for (const p of peers) await p.close();
      for (const p of pairs) await p.kill();
    });

    it('passes promtool check metrics', () => {
      const r = promtool(['check', 'metrics'], exposition);
      expect(r.output.trim()).toBe('');
      expect(r.status).toBe(0);
    });

    it('uses the standard Node.js and process metric names, and build info', () => {
      const families = exposedFamilies(exposition);
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'hes_gate_build_info']) {
        expect(families.has(name), name).toBe(true);
      }
      expect(exposition).toMatch(/^hes_gate_build_info\{version="[^"]+",commit="[^"]+"\} 1$/m);
    });

    it('labels decisions by configured gate only', () => {
      expect(exposition).toMatch(/^hes_gate_decisions_total\{gate="N1",verdict="pass"/m);
      expect(exposition).toMatch(/^hes_gate_decisions_total\{gate="other",verdict="pass"/m);
      expect(exposition).not.toContain('not-configured');
    });

    it('exports one series per ministry state, and no NaN', () => {
      const states = [...exposition.matchAll(/^hes_gate_ministry_state\{state="([^"]+)"\} ([01])$/gm)];
      expect(states.map((m) => m[1]).sort()).toEqual(['credentials-refused', 'degraded', 'down', 'unknown', 'up']);
      expect(states.filter((m) => m[2] === '1')).toHaveLength(1);
      expect(exposition).not.toMatch(/ NaN$/m);
    });

    it('serves every metric the dashboards and rules read', () => {
      const families = exposedFamilies(exposition);
      const recorded = new Set(recordedNames());
      const fromPrometheus = new Set(['up', 'ALERTS']);
      const rulesText = ['hes-gate-recording.yml', 'hes-gate-alerts.yml'].map((f) => readFileSync(join(PROMETHEUS_DIR, 'rules', f), 'utf8')).join('\n');
      const ruleExprs = [...rulesText.matchAll(/expr: (?:\|\n((?:\s{10}.*\n)+)|(.*))/g)].map((m) => (m[1] ?? m[2])!);
      const missing: string[] = [];
      for (const q of [...dashboardQueries().map((d) => `${d.dashboard} / ${d.panel}\u0000${d.expr}`), ...ruleExprs.map((e) => `rules\u0000${e}`)]) {
        const [where, expr] = q.split('\u0000') as [string, string];
        for (const name of metricNames(expr)) {
          if (recorded.has(name) || fromPrometheus.has(name) || isExposed(name, families)) continue;
          if (isCityQuery(name)) continue; // city tier series: test/ops/city-rules.test.ts
          missing.push(`${where}: ${name}`);
        }
      }
      expect(missing).toEqual([]);
    });
  });
});
