/**
 * The decision journal on `/readyz`: informational. A journal that failed (a corrupt or
 * unreadable `journal.db`, a full disk) does not stop decisions — they go on unrecorded — but it
 * is shown here, logged once (`journal.error`) and exported (`hes_gate_journal_up` 0).
 */
import type { ReadinessCheck } from '../types.js';

export interface JournalHealth {
  readonly failure: Error | null;
  readonly committed: number;
  readonly dropped: number;
}

export function journalReadiness(journal: JournalHealth | null): () => ReadinessCheck[] {
  if (journal === null) return () => [];
  return () => [
    {
      name: 'journal',
      check: () =>
        journal.failure === null
          ? { ok: true, detail: `recording: ${journal.committed} decisions written since start, ${journal.dropped} dropped` }
          : { ok: false, detail: `failed, decisions go on unrecorded: ${journal.failure.message}; ${journal.dropped} dropped; move journal.db aside and restart to record again` },
    },
  ];
}
