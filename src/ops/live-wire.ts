/**
 * What leaves the live feed, and how: the `snapshot` and `decisions` events, as Server-Sent
 * Events text.
 *
 * Privacy: a decision leaves only through toWire(), which copies named fields. DecisionEvent
 * carries no code, card id or payload, and a field added to it later is not sent until it is
 * named here.
 */
import type { Reason, Source, Verdict } from '../types.js';
import type { DecisionEvent } from '../decisions/decision-service.js';
import type { LiveStatus } from './live-status.js';
import type { MinuteCounts } from './minute-counts.js';

/** The `snapshot` event's data. */
export interface LiveSnapshot extends LiveStatus {
  at: number;
  /** Decisions since start. */
  decisions: number;
  /** The last minutes with any activity, oldest first (the current one last). */
  minutes: MinuteCounts[];
}

/** One decision as it leaves the feed (the `decisions` event's data is `{events, missed}`). */
export interface LiveDecision {
  id: string;
  at: number;
  gate: string;
  group: string;
  reader: string | null;
  kind: DecisionEvent['kind'];
  verdict: Verdict;
  reason: Reason;
  source: Source;
  elapsedMs: number;
}

/** The named fields of a decision, and nothing else. */
export function toWire(e: DecisionEvent): LiveDecision {
  return {
    id: e.decisionId,
    at: e.at,
    gate: e.gate,
    group: e.group,
    reader: e.reader ?? null,
    kind: e.kind,
    verdict: e.verdict,
    reason: e.reason,
    source: e.source,
    elapsedMs: e.elapsedMs,
  };
}

export function sseEvent(name: 'snapshot', data: LiveSnapshot): string;
export function sseEvent(name: 'decisions', data: { events: LiveDecision[]; missed: number }): string;
export function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
