/**
 * What the station keeps for each serial device (a reader or a gate controller), and the link
 * state every device reports as a 'device' event (station.ts builds them, reader-device.ts and
 * controller-device.ts wire each kind).
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../types.js';
import type { DeviceLink, LinkState } from './device-link.js';
import type { DeviceEvent, DeviceRole, DeviceStatus, StationEvents } from './events.js';

export interface Device {
  status: DeviceStatus;
  link: DeviceLink;
  /** Controllers: set from a failed command until one succeeds (see ControllerDevice). */
  failing?: { since: number; count: number } | undefined;
  /** The port's state last reported: the link repeats `reconnecting` at each retry, which is not news. */
  linkState?: LinkState;
}

/** What a device's wiring needs from the station. */
export interface DeviceContext {
  clock: Clock;
  log: Logger | undefined;
  emit: EventEmitter<StationEvents>['emit'];
  /** Whether the station is stopping: the closes that follow are its own. */
  stopping(): boolean;
}

export function initialStatus(id: string, role: DeviceRole, gates: string[], path: string, profile: string, now: number): DeviceStatus {
  return { id, role, gates, path, profile, state: 'closed', since: now, reopens: 0, failedAttempts: 0, count: 0, dropped: {} };
}

export function wireLink(device: Device, ctx: DeviceContext): void {
  const { link, status } = device;
  link.on('state', (s) => {
    // A reopened port does not make a failing controller answer: it stays failing until a command succeeds.
    const state = s.state === 'open' && device.failing !== undefined ? 'failing' : s.state;
    // Each attempt is a debug line; the change itself is one 'device' event (logged once by
    // the service as device.state), so a port missing for hours is not a warning a second.
    if (s.state === 'reconnecting') ctx.log?.debug({ device: status.id, path: status.path, error: s.lastError, attempt: s.failedAttempts }, 'device port unavailable; retrying');
    else ctx.log?.debug({ device: status.id, path: status.path, state }, 'device port state');
    if (s.state === device.linkState) return;
    device.linkState = s.state;
    const event: DeviceEvent = { id: status.id, role: status.role, path: status.path, state };
    const stopping = ctx.stopping();
    if (s.state !== 'open' && s.lastError !== undefined && !stopping) event.error = s.lastError;
    if (stopping && state === 'closed') event.expected = true;
    ctx.emit('device', event);
  });
}
