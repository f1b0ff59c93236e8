/**
 * What the station keeps for each serial device (a reader or a gate controller), and the link
 * state every device reports as a 'device' event (station.ts builds them, reader-device.ts and
 * controller-device.ts wire each kind).
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../types.js';
import type { DeviceLink } from './device-link.js';
import type { DeviceEvent, DeviceRole, DeviceStatus, StationEvents } from './events.js';

export interface Device {
  status: DeviceStatus;
  link: DeviceLink;
  /** Controllers: set from a failed command until one succeeds (see ControllerDevice). */
  failing?: { since: number; count: number } | undefined;
}

/** What a device's wiring needs from the station. */
export interface DeviceContext {
  clock: Clock;
  log: Logger | undefined;
  emit: EventEmitter<StationEvents>['emit'];
}

export function initialStatus(id: string, role: DeviceRole, gates: string[], path: string, profile: string, now: number): DeviceStatus {
  return { id, role, gates, path, profile, state: 'closed', since: now, reopens: 0, failedAttempts: 0, count: 0, dropped: {} };
}

export function wireLink(device: Device, ctx: DeviceContext): void {
  const { link, status } = device;
  link.on('state', (s) => {
    // A reopened port does not make a failing controller answer: it stays failing until a command succeeds.
    const state = s.state === 'open' && device.failing !== undefined ? 'failing' : s.state;
    const event: DeviceEvent = { id: status.id, role: status.role, path: status.path, state };
    if (s.state !== 'open' && s.lastError !== undefined) event.error = s.lastError;
    if (s.state === 'reconnecting') ctx.log?.warn({ device: status.id, path: status.path, error: s.lastError, attempt: s.failedAttempts }, 'device port unavailable; retrying');
    else ctx.log?.info({ device: status.id, path: status.path, state }, 'device port state');
    ctx.emit('device', event);
  });
}
