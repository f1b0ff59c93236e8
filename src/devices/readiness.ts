/**
 * Per-device checks for `/readyz`: shown to operators, one per reader or gate controller, but
 * informational — a station with one broken reader still decides for its other gates.
 */
import type { ReadinessCheck } from '../types.js';
import type { DeviceStatus } from './events.js';

export function deviceReadiness(devices: () => readonly DeviceStatus[]): () => ReadinessCheck[] {
  return () =>
    devices().map((d) => ({
      name: `device ${d.id}`,
      check: () => ({ ok: d.state === 'open', detail: `${d.role} ${d.profile} on ${d.path}: ${d.state}${d.state === 'failing' ? ` (${d.commandFailures} commands failed in a row: ${d.lastCommandError})` : d.lastError ? ` (${d.lastError})` : ''}` }),
    }));
}
