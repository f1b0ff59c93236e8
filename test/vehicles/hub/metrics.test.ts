/**
 * The hub's vehicle metrics as Prometheus reads them: per-vehicle ages from the injected clock
 * (growing while a vehicle is silent), revoked vehicles and vehicles that never uploaded absent,
 * the publisher's figures by kind.
 */
import { describe, expect, it } from 'vitest';
import { vehicleMetrics } from '../../../src/ops/vehicle-metrics.js';
import type { VehicleHubReport } from '../../../src/vehicles/hub/types.js';
import { bareMetrics } from '../../city/ops/reports.js';

const T = Date.parse('2026-12-08T08:00:00Z');

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('vehicle metrics', () => {
  it('export per-vehicle list age and time since upload on the clock, without revoked or silent vehicles', async () => {
    let now = T;
    const report: VehicleHubReport = {
      publisher: { publishing: true, version: 2_000_000_003, issuedAt: T - 60_000, entries: 500, versions: { snapshot: 1, delta: 2 }, lastBytes: { snapshot: 1234, delta: null }, unchanged: 4, failures: 1, lastBuildMs: 250 },
      notices: null,
      vehicles: [
        { id: 'bus-34', revoked: false, lastUploadAt: T - 30_000, lastListIssuedAt: T - 3_600_000, lastListVersion: 2_000_000_001 },
        { id: 'ferry-2', revoked: true, lastUploadAt: T - 30_000, lastListIssuedAt: T - 3_600_000, lastListVersion: 2_000_000_001 },
        { id: 'bus-9', revoked: false, lastUploadAt: null, lastListIssuedAt: null, lastListVersion: null },
      ],
      maxListAgeMs: 21_600_000,
    };
    const m = bareMetrics();
    vehicleMetrics(m, { report: () => report, clock: () => now });
    let text = await m.registry.metrics();
    expect(sample(text, 'hes_gate_vehicles_list_age_seconds', 'vehicle="bus-34"')).toBe(3600);
    expect(sample(text, 'hes_gate_vehicles_since_upload_seconds', 'vehicle="bus-34"')).toBe(30);
    expect(text).not.toContain('ferry-2');
    expect(text).not.toContain('bus-9');
    expect(sample(text, 'hes_gate_vehicles_max_list_age_seconds')).toBe(21600);
    expect(sample(text, 'hes_gate_vehicles_list_versions_total', 'kind="snapshot"')).toBe(1);
    expect(sample(text, 'hes_gate_vehicles_list_versions_total', 'kind="delta"')).toBe(2);
    expect(sample(text, 'hes_gate_vehicles_list_file_bytes', 'kind="snapshot"')).toBe(1234);
    expect(sample(text, 'hes_gate_vehicles_list_file_bytes', 'kind="delta"')).toBeUndefined();
    expect(sample(text, 'hes_gate_vehicles_list_entries')).toBe(500);
    expect(sample(text, 'hes_gate_vehicles_list_build_seconds')).toBe(0.25);
    expect(sample(text, 'hes_gate_vehicles_list_builds_failed_total')).toBe(1);
    expect(sample(text, 'hes_gate_vehicles_publishing')).toBe(1);
    // Silence ages the vehicle's list at the hub.
    now += 600_000;
    text = await m.registry.metrics();
    expect(sample(text, 'hes_gate_vehicles_list_age_seconds', 'vehicle="bus-34"')).toBe(4200);
    expect(sample(text, 'hes_gate_vehicles_since_upload_seconds', 'vehicle="bus-34"')).toBe(630);
  });
});
