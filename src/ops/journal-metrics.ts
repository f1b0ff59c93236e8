import { Counter, Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';

/** What the journal's metrics read: its failure and its drop count (journal/readiness.ts's shape). */
export interface JournalReadout {
  readonly failure: Error | null;
  readonly dropped: number;
}

/** `hes_gate_journal_up` and `hes_gate_journal_dropped_total`; absent when the journal is disabled. */
export function journalMetrics(metrics: Metrics, journal: JournalReadout | null): void {
  if (journal === null) return;
  new Gauge({
    name: 'hes_gate_journal_up',
    help: 'Decision journal: 1 while it records, 0 after its file failed (decisions go on unrecorded).',
    registers: [metrics.registry],
    collect() {
      this.set(journal.failure === null ? 1 : 0);
    },
  });
  new Counter({
    name: 'hes_gate_journal_dropped_total',
    help: 'Decisions not recorded: the journal fell behind its buffer or had failed.',
    registers: [metrics.registry],
    collect() {
      this.reset();
      this.inc(journal.dropped);
    },
  });
}
