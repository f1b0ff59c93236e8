/**
 * The running hub's view of its vehicle registry (cards/vehicle-tables.ts): who may fetch the
 * list, and what each vehicle's last upload said.
 *
 *   every refreshMs ─> store worker: data_version moved? ─ no ─> nothing (one pragma, no rows)
 *                                                        └ yes ─> all rows ─> Maps here
 *   request ─> sha256(token) ─> Map lookup ─> vehicle | unknown | revoked    (no SQLite, no wait)
 *   upload  ─> this Map at once, the store through the worker
 *
 * Why a cache refreshed through the worker rather than the CLI calling the hub's admin API: the
 * `vehicle` command then works the same with the hub stopped or running (as `cards import`
 * does), needs no admin token or hub address, and the hub sees a revocation within refreshMs.
 */
import type { VehicleRecord, VehicleUpload } from '../../cards/vehicle-tables.js';
import type { Timers } from '../../types.js';
import { systemTimers } from '../../system-timers.js';
import { tokenDigest } from './vehicle-token.js';

export interface RegistryStore {
  vehiclesSince(since: number | null): Promise<{ version: number; vehicles: VehicleRecord[] | null }>;
  noteVehicleUpload(id: string, upload: VehicleUpload): Promise<void>;
}

export type Authentication = { outcome: 'ok'; vehicle: VehicleRecord } | { outcome: 'unknown' } | { outcome: 'revoked'; vehicle: VehicleRecord };

export interface VehicleRegistryOptions {
  store: RegistryStore;
  /** How often the store is asked whether the registry changed, ms. @default 1000 */
  refreshMs?: number;
  timers?: Timers;
  /** A refresh failed (the store worker is gone): the last view stays, said once per failure streak. */
  onError?: (err: unknown) => void;
  /** The registry was (re)read from the store. */
  onLoaded?: (vehicles: number) => void;
}

export class VehicleRegistry {
  readonly #o: VehicleRegistryOptions;
  readonly #timers: Timers;
  #byDigest = new Map<string, VehicleRecord>();
  #byId = new Map<string, VehicleRecord>();
  #version: number | null = null;
  #timer: unknown;
  #running = false;
  #failing = false;

  constructor(o: VehicleRegistryOptions) {
    this.#o = o;
    this.#timers = o.timers ?? systemTimers;
  }

  /** Read the registry once, then keep it fresh. */
  async start(): Promise<void> {
    await this.refresh();
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#timers.clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = this.#timers.setTimeout(() => {
      void this.refresh().finally(() => this.#schedule());
    }, this.#o.refreshMs ?? 1000);
  }

  /** Ask the store whether the registry changed; true when it was re-read. Never rejects. */
  async refresh(): Promise<boolean> {
    let r: { version: number; vehicles: VehicleRecord[] | null };
    try {
      r = await this.#o.store.vehiclesSince(this.#version);
    } catch (err) {
      if (!this.#failing) this.#o.onError?.(err);
      this.#failing = true;
      return false;
    }
    this.#failing = false;
    this.#version = r.version;
    if (r.vehicles === null) return false;
    const byDigest = new Map<string, VehicleRecord>();
    const byId = new Map<string, VehicleRecord>();
    for (const v of r.vehicles) {
      // What this hub learned from uploads since it last read is newer than the row it read.
      const held = this.#byId.get(v.id);
      const merged = held !== undefined && (held.lastUploadAt ?? -1) > (v.lastUploadAt ?? -1) ? { ...v, lastUploadAt: held.lastUploadAt, lastListVersion: held.lastListVersion, lastListIssuedAt: held.lastListIssuedAt, lastClockAt: held.lastClockAt } : v;
      byDigest.set(v.tokenSha256, merged);
      byId.set(v.id, merged);
    }
    this.#byDigest = byDigest;
    this.#byId = byId;
    this.#o.onLoaded?.(byId.size);
    return true;
  }

  /** Who presents this bearer token. */
  authenticate(token: string): Authentication {
    if (token === '') return { outcome: 'unknown' };
    const vehicle = this.#byDigest.get(tokenDigest(token));
    if (vehicle === undefined) return { outcome: 'unknown' };
    return vehicle.revokedAt === null ? { outcome: 'ok', vehicle } : { outcome: 'revoked', vehicle };
  }

  /** Keep what an upload said, here at once and in the store (its promise: the store's write). */
  noteUpload(id: string, upload: VehicleUpload): Promise<void> {
    const v = this.#byId.get(id);
    if (v !== undefined) {
      v.lastUploadAt = upload.at;
      v.lastListVersion = upload.listVersion;
      v.lastListIssuedAt = upload.listIssuedAt;
      v.lastClockAt = upload.clockAt;
    }
    return this.#o.store.noteVehicleUpload(id, upload);
  }

  /** The vehicles as last read, with what their uploads said (metrics). */
  vehicles(): VehicleRecord[] {
    return [...this.#byId.values()];
  }
}
