/**
 * A vehicle's fetch credential: 32 random bytes, base64url, shown to the operator once
 * (`hes-gate vehicle add`) and kept at the hub only as its sha256, so a copy of the hub's store
 * lets no one fetch the list. A vehicle id names the vehicle in metrics and the journal: plain, like
 * a station id, never personal data.
 */
import { createHash, randomBytes } from 'node:crypto';

const VEHICLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function isVehicleId(id: string): boolean {
  return VEHICLE_ID.test(id);
}

export function newVehicleToken(): string {
  return randomBytes(32).toString('base64url');
}

/** sha256 of a presented or new token, lower-case hex: what the registry keys vehicles by. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
