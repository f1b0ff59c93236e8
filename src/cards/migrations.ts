/**
 * The card store's schema, as an ordered list of migrations. `PRAGMA user_version` holds the
 * number of migrations applied; opening a store applies the missing ones, each in its own
 * transaction, so a crash mid-migration leaves the previous version intact.
 *
 * Append only: never edit a migration that has shipped, add the next one.
 */
import type Database from 'better-sqlite3';
import { HesGateError } from '../errors.js';

export interface Migration {
  /** 1-based; equals the `user_version` after it ran. */
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'card bindings, keyed by canonical card id, indexed by HES code for the refresher rotation',
    up(db) {
      db.exec(`
        CREATE TABLE bindings (
          card_id    TEXT PRIMARY KEY,
          hes_code   TEXT NOT NULL,
          profile    TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX bindings_hes_code ON bindings (hes_code);
      `);
    },
  },
  {
    version: 2,
    description: 'last-known statuses (code, status, expiry, fetched-at only) so they survive a restart',
    up(db) {
      db.exec(`
        CREATE TABLE statuses (
          code       TEXT PRIMARY KEY,
          status     TEXT NOT NULL CHECK (status IN ('RISKLESS', 'RISKY')),
          expires_at INTEGER NOT NULL,
          fetched_at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 3,
    description: 'admin journal: who changed which binding when, masked',
    up(db) {
      db.exec(`
        CREATE TABLE admin_journal (
          id              INTEGER PRIMARY KEY,
          at              INTEGER NOT NULL,
          who             TEXT NOT NULL,
          action          TEXT NOT NULL,
          card_id_masked  TEXT,
          hes_code_masked TEXT,
          detail          TEXT
        );
      `);
    },
  },
  {
    version: 4,
    description: 'city replica position: where this store stands in its city\'s change stream (one row, written with what it applied)',
    up(db) {
      // The checks make a malformed position fail its transaction, so it can never be saved
      // without (or apart from) the bindings it was applied with.
      db.exec(`
        CREATE TABLE city_state (
          id          INTEGER PRIMARY KEY CHECK (id = 1),
          kid         TEXT NOT NULL CHECK (kid <> ''),
          epoch       TEXT NOT NULL,
          changes_id  TEXT NOT NULL CHECK (changes_id GLOB '[0-9]*-[0-9]*'),
          changes_seq INTEGER NOT NULL CHECK (typeof(changes_seq) = 'integer' AND changes_seq >= 0)
        );
      `);
    },
  },
  {
    version: 5,
    description: 'a hub\'s record of the city\'s node registry (node id → its record as Redis held it), so an emptied Redis gets it back',
    up(db) {
      db.exec(`
        CREATE TABLE city_nodes (
          node_id TEXT PRIMARY KEY,
          record  TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 6,
    description: 'a hub\'s vehicle registry: each vehicle\'s fetch token (as sha256 only), revocation, and what its last upload said',
    up(db) {
      db.exec(`
        CREATE TABLE vehicles (
          id                  TEXT PRIMARY KEY,
          token_sha256        TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
          created_at          INTEGER NOT NULL,
          revoked_at          INTEGER,
          last_upload_at      INTEGER,
          last_list_version   INTEGER,
          last_list_issued_at INTEGER,
          last_clock_at       INTEGER
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 7,
    description: 'the ministry\'s findings (expired, not found) for bound codes, for a hub\'s vehicle list; gone with the code\'s last binding',
    up(db) {
      // Beside statuses rather than in them: statuses stays what a restart reads back (RISKLESS
      // and RISKY), and SQLite cannot widen a CHECK without copying the table. The triggers take a
      // code's finding with its last binding, in the same transaction, whichever path deleted or
      // rebound it (admin, import, city entry, city snapshot).
      db.exec(`
        CREATE TABLE findings (
          code TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('expired', 'not-found')),
          at   INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TRIGGER findings_unbound AFTER DELETE ON bindings
        WHEN NOT EXISTS (SELECT 1 FROM bindings WHERE hes_code = OLD.hes_code)
        BEGIN
          DELETE FROM findings WHERE code = OLD.hes_code;
        END;
        CREATE TRIGGER findings_rebound AFTER UPDATE OF hes_code ON bindings
        WHEN OLD.hes_code <> NEW.hes_code AND NOT EXISTS (SELECT 1 FROM bindings WHERE hes_code = OLD.hes_code)
        BEGIN
          DELETE FROM findings WHERE code = OLD.hes_code;
        END;
      `);
    },
  },
  {
    version: 8,
    description: 'a code\'s persisted status goes with its last binding (deleted or rebound), as its finding does',
    up(db) {
      // A deletion deletes (KVKK): a deleted or rebound card's old code stayed in `statuses`, in
      // clear, until a restart pruned it by age. Only bound codes' statuses are persisted (the
      // refresher's and the city's), so a status whose code no card holds decides nothing. The
      // triggers run in the deleting transaction, on every path; the DELETE clears what earlier
      // versions left behind (in the store worker, once, at upgrade).
      db.exec(`
        DELETE FROM statuses WHERE NOT EXISTS (SELECT 1 FROM bindings WHERE hes_code = statuses.code);
        CREATE TRIGGER statuses_unbound AFTER DELETE ON bindings
        WHEN NOT EXISTS (SELECT 1 FROM bindings WHERE hes_code = OLD.hes_code)
        BEGIN
          DELETE FROM statuses WHERE code = OLD.hes_code;
        END;
        CREATE TRIGGER statuses_rebound AFTER UPDATE OF hes_code ON bindings
        WHEN OLD.hes_code <> NEW.hes_code AND NOT EXISTS (SELECT 1 FROM bindings WHERE hes_code = OLD.hes_code)
        BEGIN
          DELETE FROM statuses WHERE code = OLD.hes_code;
        END;
      `);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Bring `db` to the last version of `migrations`. Returns the versions applied.
 * A database newer than this build is refused rather than guessed at.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length;
  if (current > latest) {
    throw new HesGateError(
      'HG_STORE',
      `The card store has schema version ${current}, newer than this build knows (${latest}); upgrade hes-gate or use another data dir.`,
    );
  }
  const applied: number[] = [];
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}
