import { Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';

/**
 * `hes_gate_ministry_environment_info{environment}` = 1: which ministry environment the
 * station speaks to, as the target selection decided it (`simulator` whenever the embedded
 * simulator answers), so a dashboard or alert can tell a rehearsal station from a live one.
 */
export function environmentMetric(metrics: Metrics, environment: string): void {
  const gauge = new Gauge({
    name: 'hes_gate_ministry_environment_info',
    help: 'The ministry environment this station speaks to (simulator, test or live); always 1.',
    labelNames: ['environment'] as const,
    registers: [metrics.registry],
  });
  gauge.labels(environment).set(1);
}
