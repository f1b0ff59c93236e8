/**
 * The city tier's metrics, from the two status reports: names pass `promtool check metrics`,
 * labels are fixed enums only, unknown figures are absent (never 0 or NaN), counters follow
 * the reports' totals.
 */
import { describe, expect, it } from 'vitest';
import { cityMetrics, entryIdMs } from '../../../src/ops/city-metrics.js';
import type { HubStatusReport, ReplicaStatusReport } from '../../../src/city/types.js';
import { bareMetrics, hubReport, replicaReport } from './reports.js';
import { hasPromtool, promtool } from '../../ops/promtool.js';

async function expose(role: 'standalone' | 'station' | 'hub', replica: ReplicaStatusReport | null, hub: HubStatusReport | null = null): Promise<string> {
  const m = bareMetrics();
  cityMetrics(m, { role, replica: () => replica, hub: () => hub });
  return m.registry.metrics();
}

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('city metrics', () => {
  it('reads the stream id\'s milliseconds as the last applied time', () => {
    expect(entryIdMs('1764531200123-4')).toBe(1764531200123);
    expect(entryIdMs('0-0')).toBeUndefined();
    expect(entryIdMs(null)).toBeUndefined();
    expect(entryIdMs('garbage')).toBeUndefined();
  });

  it('a standalone node exports only its role', async () => {
    const text = await expose('standalone', null);
    expect(text).toMatch(/^hes_gate_city_info\{role="standalone"\} 1$/m);
    expect(text).not.toMatch(/^hes_gate_city_state/m);
  });

  it('a station exports its replica: state, lag, position, totals', async () => {
    const text = await expose('station', replicaReport({ state: 'degraded', reason: 'redis unreachable' }));
    expect(text).toMatch(/^hes_gate_city_info\{role="station"\} 1$/m);
    const states = [...text.matchAll(/^hes_gate_city_state\{state="([^"]+)"\} ([01])$/gm)];
    expect(states.map((m) => m[1]).sort()).toEqual(['connecting', 'degraded', 'live', 'resyncing']);
    expect(states.filter((m) => m[2] === '1').map((m) => m[1])).toEqual(['degraded']);
    expect(value(text, 'hes_gate_city_replication_lag_seconds')).toBe(0.25);
    expect(value(text, 'hes_gate_city_replication_lag_entries')).toBe(3);
    expect(value(text, 'hes_gate_city_last_applied_timestamp_seconds')).toBe(1764531200.123);
    expect(value(text, 'hes_gate_city_snapshots_total{cause="trimmed"}')).toBe(1);
    expect(value(text, 'hes_gate_city_snapshots_total{cause="other"}')).toBe(2);
    expect(value(text, 'hes_gate_city_malformed_entries_total')).toBe(2);
    expect(value(text, 'hes_gate_city_entries_applied_total')).toBe(40);
    expect(value(text, 'hes_gate_city_lookups_applied_total')).toBe(7);
    expect(value(text, 'hes_gate_city_lookups_shared_total')).toBe(5);
    expect(value(text, 'hes_gate_city_entries_refused_total{reason="forged",where="replica"}')).toBe(1);
    expect(value(text, 'hes_gate_city_entries_refused_total{reason="replayed",where="replica"}')).toBe(0);
    expect(text).not.toContain('where="relay"');
    // A station has no lease: the hub's series are not there to be misread.
    expect(text).not.toContain('hes_gate_city_lease_holder');
    // The degraded reason is free text: shown on /readyz, never a label.
    expect(text).not.toContain('unreachable');
  });

  it('leaves unknown figures out instead of exporting 0 or NaN', async () => {
    const text = await expose('hub', null, hubReport({ holding: false, token: null, rotationProgress: null, lastRotationDurationMs: null, callsLastRotation: null, callsPerSecond: null }));
    expect(text).not.toMatch(/ NaN$/m);
    for (const name of ['hes_gate_city_replication_lag_seconds', 'hes_gate_city_last_applied_timestamp_seconds', 'hes_gate_city_lease_token', 'hes_gate_city_rotation_progress_ratio', 'hes_gate_city_rotation_duration_seconds', 'hes_gate_city_rotation_calls', 'hes_gate_city_calls_per_second_budget']) {
      expect(value(text, name), name).toBeUndefined();
    }
    expect(value(text, 'hes_gate_city_lease_holder')).toBe(0);
    const states = [...text.matchAll(/^hes_gate_city_state\{state="[^"]+"\} 1$/gm)];
    expect(states).toHaveLength(0);
  });

  it('a hub exports the lease, the rotation and the publisher', async () => {
    const text = await expose('hub', replicaReport(), hubReport());
    expect(value(text, 'hes_gate_city_lease_holder')).toBe(1);
    expect(value(text, 'hes_gate_city_lease_token')).toBe(12);
    expect(value(text, 'hes_gate_city_rotation_progress_ratio')).toBe(0.5);
    expect(value(text, 'hes_gate_city_rotation_duration_seconds')).toBe(420);
    expect(value(text, 'hes_gate_city_rotation_calls')).toBe(200);
    expect(value(text, 'hes_gate_city_calls_per_second_budget')).toBe(0.4);
    expect(value(text, 'hes_gate_city_publish_queued')).toBe(1);
    expect(value(text, 'hes_gate_city_publish_dropped_total')).toBe(0);
    expect(value(text, 'hes_gate_city_fenced_total')).toBe(2);
    // The relay's refusals: a lookup that did not open or named another node counts as forged.
    expect(value(text, 'hes_gate_city_entries_refused_total{reason="forged",where="relay"}')).toBe(1);
    expect(value(text, 'hes_gate_city_entries_refused_total{reason="revoked",where="relay"}')).toBe(1);
    expect(value(text, 'hes_gate_city_lookups_relayed_total')).toBe(4);
    expect(value(text, 'hes_gate_city_lookup_hints_total')).toBe(3);
    expect(value(text, 'hes_gate_city_binding_statuses_asked_total')).toBe(20);
    expect(value(text, 'hes_gate_city_binding_statuses_missing_total')).toBe(0);
    // The holder's node id stays out of the labels: it is configuration, but not an enum.
    expect(text).not.toContain('hub-a');
  });

  it('follows the reports from one scrape to the next', async () => {
    const m = bareMetrics();
    let r = replicaReport({ entriesApplied: 1 });
    cityMetrics(m, { role: 'station', replica: () => r, hub: () => null });
    expect(value(await m.registry.metrics(), 'hes_gate_city_entries_applied_total')).toBe(1);
    r = replicaReport({ entriesApplied: 9, state: 'live' });
    expect(value(await m.registry.metrics(), 'hes_gate_city_entries_applied_total')).toBe(9);
  });

  it.skipIf(!hasPromtool)('passes promtool check metrics', async () => {
    const r = promtool(['check', 'metrics'], await expose('hub', replicaReport(), hubReport()));
    expect(r.output.trim()).toBe('');
    expect(r.status).toBe(0);
  });
});
