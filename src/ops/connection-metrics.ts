import { Counter } from 'prom-client';
import type { Metrics } from './metrics.js';

/** What the connection metrics read: refusals counted by the HTTP edge (a narrow shape of its own). */
export interface ConnectionRefusalsReadout {
  readonly perAddress: number;
  readonly total: number;
}

/**
 * `hes_gate_connections_refused_total{why}`: connections closed at once because one client
 * address held `limits.maxConnectionsPerAddress` (`per_address`), or the server held
 * `limits.maxConnections` (`total`). A rising `per_address` is one client hoarding connections;
 * a rising `total` means new validators are being turned away.
 */
export function connectionMetrics(metrics: Metrics, refusals: ConnectionRefusalsReadout): void {
  new Counter({
    name: 'hes_gate_connections_refused_total',
    help: 'Connections closed at once: per_address (the client address held limits.maxConnectionsPerAddress), total (the server held limits.maxConnections).',
    labelNames: ['why'] as const,
    registers: [metrics.registry],
    collect() {
      this.reset();
      this.labels('per_address').inc(refusals.perAddress);
      this.labels('total').inc(refusals.total);
    },
  });
}
