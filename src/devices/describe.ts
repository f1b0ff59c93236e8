/**
 * `hes-gate devices`: configured gates, their readers and controllers, paths, profiles and,
 * when a running station's status is given, each port's state. Pure text rendering.
 */
import type { StationGateConfig } from './config.js';
import type { DeviceStatus } from './station.js';
import { alignColumns } from '../text-table.js';

const HEADER = ['GATE', 'GROUP', 'ROLE', 'DEVICE', 'PATH', 'PROFILE', 'STATE', 'DETAIL'] as const;

export function describeDevices(gates: readonly StationGateConfig[], status: readonly DeviceStatus[] = []): string {
  if (gates.length === 0) return 'No gates with serial devices (no gate in gates.list has a reader or a controller).\n';
  const rows: string[][] = [];
  for (const gate of gates) {
    for (const reader of gate.readers) {
      rows.push([gate.id, gate.group, 'reader', reader.id, reader.path, reader.profile, ...stateOf(status, 'reader', reader.path)]);
    }
    if (gate.controller) {
      const c = gate.controller;
      const device = status.find((s) => s.role === 'controller' && s.path === c.path);
      rows.push([gate.id, gate.group, 'controller', device?.id ?? `${gate.id}/controller`, c.path, c.profile + targetOf(c), ...stateOf(status, 'controller', c.path)]);
    }
    if (gate.readers.length === 0 && !gate.controller) rows.push([gate.id, gate.group, '-', '-', '-', '-', '-', 'no devices']);
  }
  return `${alignColumns([[...HEADER], ...rows])}\n`;
}

function targetOf(c: NonNullable<StationGateConfig['controller']>): string {
  const parts: string[] = [];
  if (c.unit !== undefined) parts.push(`unit ${c.unit}`);
  if (c.openCoil !== undefined) parts.push(`open coil ${c.openCoil}`);
  if (c.denyCoil !== undefined) parts.push(`deny coil ${c.denyCoil}`);
  if (c.passage !== undefined) parts.push(`passage ${c.passage}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function stateOf(status: readonly DeviceStatus[], role: DeviceStatus['role'], path: string): [string, string] {
  const s = status.find((d) => d.role === role && d.path === path);
  if (!s) return ['-', status.length === 0 ? 'station not running' : 'no status'];
  const detail: string[] = [];
  if (role === 'reader') detail.push(`${s.count} reads`);
  else detail.push(`${s.count} commands`);
  const dropped = Object.entries(s.dropped).filter(([, n]) => (n ?? 0) > 0);
  if (dropped.length) detail.push(`dropped ${dropped.map(([why, n]) => `${why}=${n}`).join(' ')}`);
  if (s.reopens) detail.push(`reopened ${s.reopens}x`);
  if (s.lastFeedback) detail.push(`feedback ${s.lastFeedback}`);
  if (s.state !== 'open' && s.lastError) detail.push(`error: ${s.lastError}`);
  if (s.lastCommandError) detail.push(`command error: ${s.lastCommandError}`);
  return [s.state, detail.join('; ')];
}

