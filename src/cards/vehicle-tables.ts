/**
 * A hub's vehicle registry, in its card store (migration 6): who may fetch the vehicle list.
 *
 *   vehicles  id → sha256 of its token (never the token), created, revoked, and what its last
 *             upload said (when, which list version, that version's signed issuedAt, its clock)
 *
 * The operator's commands (`hes-gate vehicle add|revoke`) write it from their own connection; the
 * running hub reads it through its store worker when `PRAGMA data_version` says another
 * connection changed the file, so a revocation reaches the hub within its refresh period and no
 * request ever reads SQLite on the thread that answers.
 */
import type Database from 'better-sqlite3';

/** One vehicle as the registry holds it (times: epoch ms). */
export interface VehicleRecord {
  id: string;
  /** sha256 of the token, lower-case hex. */
  tokenSha256: string;
  createdAt: number;
  revokedAt: number | null;
  lastUploadAt: number | null;
  lastListVersion: number | null;
  lastListIssuedAt: number | null;
  /** The vehicle's own clock when it sent its last upload. */
  lastClockAt: number | null;
}

/** What an upload tells the registry about a vehicle. */
export interface VehicleUpload {
  at: number;
  listVersion: number | null;
  listIssuedAt: number | null;
  clockAt: number;
}

export interface VehicleTables {
  /** Every vehicle, by id. */
  list(): VehicleRecord[];
  /** PRAGMA data_version of this connection: it moves when another connection committed. */
  dataVersion(): number;
  /** A new vehicle, or (replace) a new token for one: false when `id` exists and replace is not set. */
  add(id: string, tokenSha256: string, at: number, replace: boolean): boolean;
  /** Revoke a vehicle; false when there is none by that id. A revoked one stays revoked (its first time kept). */
  revoke(id: string, at: number): boolean;
  noteUpload(id: string, upload: VehicleUpload): void;
}

interface Row {
  id: string;
  token_sha256: string;
  created_at: number;
  revoked_at: number | null;
  last_upload_at: number | null;
  last_list_version: number | null;
  last_list_issued_at: number | null;
  last_clock_at: number | null;
}

export function vehicleTables(db: Database.Database, write: <T>(fn: () => T) => T): VehicleTables {
  const all = db.prepare<[], Row>('SELECT * FROM vehicles ORDER BY id');
  return {
    list: () =>
      all.all().map((r) => ({
        id: r.id,
        tokenSha256: r.token_sha256,
        createdAt: r.created_at,
        revokedAt: r.revoked_at,
        lastUploadAt: r.last_upload_at,
        lastListVersion: r.last_list_version,
        lastListIssuedAt: r.last_list_issued_at,
        lastClockAt: r.last_clock_at,
      })),
    dataVersion: () => db.pragma('data_version', { simple: true }) as number,
    add: (id, tokenSha256, at, replace) =>
      write(() => {
        const exists = db.prepare<[string], { id: string }>('SELECT id FROM vehicles WHERE id = ?').get(id) !== undefined;
        if (exists && !replace) return false;
        if (exists) db.prepare('UPDATE vehicles SET token_sha256 = ?, created_at = ?, revoked_at = NULL WHERE id = ?').run(tokenSha256, at, id);
        else db.prepare('INSERT INTO vehicles (id, token_sha256, created_at) VALUES (?, ?, ?)').run(id, tokenSha256, at);
        return true;
      }),
    revoke: (id, at) => write(() => db.prepare('UPDATE vehicles SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?').run(at, id).changes > 0),
    noteUpload: (id, u) =>
      write(() => {
        db.prepare('UPDATE vehicles SET last_upload_at = ?, last_list_version = ?, last_list_issued_at = ?, last_clock_at = ? WHERE id = ?').run(u.at, u.listVersion, u.listIssuedAt, u.clockAt, id);
      }),
  };
}
