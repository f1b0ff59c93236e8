/**
 * What a vehicle reports about itself (its list, its clock, its uploads): the shape the metrics
 * (ops/on-board-metrics.ts) read at scrape time, and the uploader sends along.
 */
import type { RefusalReason } from '../list/types.js';

/** `up`: the last request was answered 2xx. The others name why the last one was not. */
export type LinkStateName = 'starting' | 'up' | 'unreachable' | 'unauthorized' | 'revoked' | 'refused';

export interface ListFetcherReport {
  version: number | null;
  issuedAt: number | null;
  count: number | null;
  refused: ReadonlyMap<RefusalReason, number>;
  bytesFetched: number;
  link: LinkStateName;
}

export interface UploaderReport {
  /** Records recorded but not acknowledged by the hub, as of the last round. */
  pending: number;
  /** Records acknowledged since start. */
  uploaded: number;
  /** When the hub last acknowledged a batch (the vehicle's clock); null before any. */
  lastUploadAt: number | null;
}

/** What a push notice did: made a poll now, joined one waiting, was about a version held (stale), or was no notice. */
export type NoticeTaken = 'poll' | 'coalesced' | 'stale' | 'malformed';

export interface NoticeListenerReport {
  connected: boolean;
  taken: Record<NoticeTaken, number>;
  /** Head polls the notices caused. */
  polls: number;
}

export interface OnBoardReport {
  list: ListFetcherReport;
  /** List age on the signed clock, ms; null before any list. */
  listAgeMs: number | null;
  /** How far the vehicle's own clock is behind the newest signed time, ms. */
  clockBehindMs: number;
  /** null when the journal is off (nothing is uploaded). */
  uploads: UploaderReport | null;
  /** null when no notice broker is configured (vehicle.mqtt.url). */
  notices: NoticeListenerReport | null;
}
