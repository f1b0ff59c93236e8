/**
 * The live page's serial devices table: each reader and gate controller and its state.
 *
 * @typedef {import('../../ops/live-wire.js').LiveDevice} LiveDevice
 */
import { $, ago, cell, clear, own, pill } from './dom.js';

/** @type {Record<string, string | undefined>} */
const DEVICE_CLASS = { open: 'ok', reconnecting: 'warn', closed: 'bad', failing: 'bad' };


/**
 * @param {LiveDevice[]} devices
 * @param {number} now
 */
export function renderDevices(devices, now) {
  const body = $('devices');
  clear(body);
  $('no-devices').hidden = devices.length > 0;
  for (const d of devices) {
    const tr = document.createElement('tr');
    cell(tr, d.id);
    cell(tr, d.role);
    cell(tr, d.gates.join(', '));
    cell(tr, d.path);
    cell(tr, d.profile);
    const td = cell(tr, '');
    const span = document.createElement('span');
    pill(span, d.state, own(DEVICE_CLASS, d.state));
    td.appendChild(span);
    cell(tr, ago(d.since, now));
    cell(tr, String(d.reopens), 'r');
    cell(tr, d.lastError || '—', 'wrap');
    body.appendChild(tr);
  }
}
