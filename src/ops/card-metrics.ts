import { Counter, Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';
import type { Refresher } from '../status/refresher.js';

/** Card store and refresher metrics, read at scrape time from their own counters. */
export function cardMetrics(metrics: Metrics, countBindings: () => number, refresher: Refresher): void {
  const registry = metrics.registry;
  new Gauge({
    name: 'hes_gate_card_bindings',
    help: 'Card bindings in the store (counted at most every 30 s).',
    registers: [registry],
    collect() {
      this.set(countBindings());
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
  new Gauge({
    name: 'hes_gate_refresher_rotation_seconds',
    help: 'Duration of the last complete refresh rotation over all bound codes.',
    registers: [registry],
    collect() {
      const ms = refresher.stats().lastRotationDurationMs;
      this.set(ms === undefined ? Number.NaN : ms / 1000);
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
