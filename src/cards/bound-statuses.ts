/**
 * Every bound card with what is persisted for its code — its status (bindings ⨝ statuses) or
 * the ministry's finding (⨝ findings: expired, not found) — read on a read-only connection of
 * its own: what a hub derives the vehicle list from (vehicles/hub/list-builder).
 * The caller runs it off the thread that answers taps (a worker): a million rows take a second.
 *
 * The rows hold card ids and the join is done here, so nothing above the store needs the codes:
 * the caller sees a card id, its profile, the status and expiry of its code and its finding with
 * when it was learnt (each null when the store holds none; a code has one or the other).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import type { HealthStatus } from '../types.js';
import type { FindingKind } from '../status/types.js';
import { STORE_FILE } from './store.js';
import { storeError } from './store-errors.js';

export type BoundStatusRow = [
  cardId: string,
  profile: string,
  status: HealthStatus | null,
  expiresAt: number | null,
  fetchedAt: number | null,
  finding: FindingKind | null,
  foundAt: number | null,
];

const JOIN = `SELECT b.card_id, b.profile, s.status, s.expires_at, s.fetched_at, f.kind, f.at FROM bindings b
  LEFT JOIN statuses s ON s.code = b.hes_code LEFT JOIN findings f ON f.code = b.hes_code`;

export interface BoundStatuses {
  /** Every bound card, in no particular order, in one read transaction (one consistent snapshot). */
  each(fn: (row: BoundStatusRow) => void): number;
  close(): void;
}

export function openBoundStatuses(dataDir: string): BoundStatuses {
  let db: Database.Database;
  try {
    db = new Database(path.join(path.resolve(dataDir), STORE_FILE), { readonly: true, fileMustExist: true });
    // A WAL reader needs no lock; never wait on the writer.
    db.pragma('busy_timeout = 0');
  } catch (err) {
    throw storeError(`The card store in ${dataDir} could not be opened for the vehicle list.`, err);
  }
  const stmt = db.prepare<[], BoundStatusRow>(JOIN).raw(true);
  return {
    each(fn) {
      let n = 0;
      for (const row of stmt.iterate()) {
        fn(row);
        n++;
      }
      return n;
    },
    close: () => db.close(),
  };
}
