/** The status cache's gauges: read at every scrape from the cache itself (no walk, nothing stale). */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import { StatusService } from '../../src/status/status-service.js';

const T0 = Date.UTC(2021, 0, 1);

describe('status cache metrics', () => {
  it('exports the oldest status age as of this scrape, and follows a refresh at once', async () => {
    let now = T0;
    const status = new StatusService({
      risklessTtlMs: 600_000,
      riskyTtlMs: 21_600_000,
      notFoundTtlMs: 60_000,
      expiredTtlMs: 3_600_000,
      lastKnownMaxAgeMs: 86_400_000,
      maxEntries: 100,
      ministry: () => Promise.reject(new Error('not asked in this test')),
      clock: () => now,
    });
    const metrics = createMetrics({ status, ministryHealth: { state: 'up', lastError: null, lastSuccessAt: null }, clock: () => now });
    const gauge = async (name: string): Promise<number> => {
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await metrics.registry.metrics());
      return Number(m?.[1]);
    };
    expect(await gauge('hes_gate_status_oldest_age_seconds')).toBe(0);
    status.ingest('A000000001', { kind: 'not-found' }, T0);
    status.ingest('A000000002', { kind: 'not-found' }, T0 + 5_000);
    now = T0 + 20_000;
    expect(await gauge('hes_gate_status_cache_entries')).toBe(2);
    expect(await gauge('hes_gate_status_oldest_age_seconds')).toBe(20);
    // The oldest is refreshed: the very next scrape shows the next oldest.
    status.ingest('A000000001', { kind: 'not-found' }, T0 + 19_000);
    now = T0 + 21_000;
    expect(await gauge('hes_gate_status_oldest_age_seconds')).toBe(16);
  });
});
