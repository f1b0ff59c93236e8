import { Counter, Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';
import type { DevicesReadout } from './sources.js';

/**
 * Serial device metrics, from the station's status and events. Labels are configured device
 * and gate ids, never anything read from a card or phone.
 */
export function deviceMetrics(metrics: Metrics, station: DevicesReadout): void {
  const registry = metrics.registry;
  new Gauge({
    name: 'hes_gate_device_up',
    help: 'Serial device connection: 1 open, 0 otherwise.',
    labelNames: ['device', 'role'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const d of station.status()) this.labels(d.id, d.role).set(d.state === 'open' ? 1 : 0);
    },
  });
  new Counter({
    name: 'hes_gate_device_reopens_total',
    help: 'Times a serial device was reopened after it closed (unplugged, reset).',
    labelNames: ['device'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const d of station.status()) this.labels(d.id).inc(d.reopens);
    },
  });
  const dropped = new Counter({
    name: 'hes_gate_device_frames_dropped_total',
    help: 'Reads dropped by reader and reason (garbage, oversize, partial, checksum, symbology, repeat…).',
    labelNames: ['reader', 'why'] as const,
    registers: [registry],
  });
  const taps = new Counter({
    name: 'hes_gate_device_taps_total',
    help: 'Serial taps by gate, verdict and gate command outcome (sent, none, failed).',
    labelNames: ['gate', 'verdict', 'command'] as const,
    registers: [registry],
  });
  station.on('frame-dropped', (e) => dropped.labels(e.reader, e.why).inc());
  station.on('tap', (e) => taps.labels(e.gate, e.verdict, e.command).inc());
}
