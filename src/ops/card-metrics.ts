import { Counter, Gauge } from 'prom-client';
import { KnownGauge, type Metrics } from './metrics.js';
import type { RefresherReadout } from './sources.js';

/** Card store and refresher metrics, read at scrape time from their own counters. */
export function cardMetrics(metrics: Metrics, countBindings: () => number, refresher: RefresherReadout, storeUp: () => boolean): void {
  const registry = metrics.registry;
  new Gauge({
    name: 'hes_gate_card_bindings',
    help: 'Card bindings in the store, as the store\'s writer last counted them.',
    registers: [registry],
    collect() {
      this.set(countBindings());
    },
  });
  new Gauge({
    name: 'hes_gate_card_store_up',
    help: 'Card store: 1 when it answers reads and no write failed in the last minute, else 0.',
    registers: [registry],
    collect() {
      this.set(storeUp() ? 1 : 0);
    },
  });
  new Counter({
    name: 'hes_gate_refresher_codes_refreshed_total',
    help: 'Bound codes whose status the refresher asked the ministry about.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(refresher.stats().codesRefreshed);
    },
  });
  new Counter({
    name: 'hes_gate_refresher_calls_total',
    help: 'Bulk ministry calls by the refresher, by outcome (ok, or an error code).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(refresher.stats().callsByOutcome)) this.labels(outcome).inc(n);
    },
  });
  // Absent until the first rotation completes: a NaN would read as a value on a dashboard.
  new KnownGauge({
    name: 'hes_gate_refresher_rotation_seconds',
    help: 'Duration of the last complete refresh rotation over all bound codes (absent until one completes).',
    registers: [registry],
    value: () => {
      const ms = refresher.stats().lastRotationDurationMs;
      return ms === undefined ? undefined : ms / 1000;
    },
  });
  new Gauge({
    name: 'hes_gate_refresher_consecutive_failures',
    help: 'Consecutive failed refresher calls (0 when the last one succeeded).',
    registers: [registry],
    collect() {
      this.set(refresher.stats().consecutiveFailures);
    },
  });
}
