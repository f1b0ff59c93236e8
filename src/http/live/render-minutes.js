/**
 * The live page's per-minute tables: decisions per minute, and their reasons and sources.
 *
 * @typedef {import('../../ops/live-wire.js').MinuteCounts} MinuteCounts
 */
import { $, cell, clear, hhmm } from './dom.js';

/** The last minutes, newest first, with a pass/deny bar each. @param {MinuteCounts[]} minutes */
export function renderMinutes(minutes) {
  const body = $('minutes');
  clear(body);
  const most = minutes.reduce((a, b) => Math.max(a, b.pass + b.deny), 1);
  for (const b of minutes.slice().reverse()) {
    const tr = document.createElement('tr');
    cell(tr, hhmm(b.minute));
    cell(tr, String(b.pass), 'r num-pass');
    cell(tr, String(b.deny), 'r num-deny');
    cell(tr, String(b.ministryCalls), 'r');
    cell(tr, String(b.ministryErrors), `r${b.ministryErrors ? ' num-deny' : ''}`);
    const td = cell(tr, '', 'bar-cell');
    const share = document.createElement('div');
    share.className = 'share';
    share.setAttribute('aria-hidden', 'true');
    const p = document.createElement('span');
    p.className = 'p';
    p.style.width = `${(100 * b.pass) / most}%`;
    const d = document.createElement('span');
    d.className = 'd';
    d.style.width = `${(100 * b.deny) / most}%`;
    share.appendChild(p);
    share.appendChild(d);
    td.appendChild(share);
    body.appendChild(tr);
  }
}

/**
 * Decisions by reason or by source over the minutes held, most first.
 * @param {HTMLElement} body
 * @param {MinuteCounts[]} minutes
 * @param {'byReason' | 'bySource'} key
 */
export function renderCounts(body, minutes, key) {
  /** @type {Record<string, number>} */
  const totals = {};
  for (const b of minutes) {
    for (const [k, n] of Object.entries(b[key])) totals[k] = (totals[k] ?? 0) + (n ?? 0);
  }
  clear(body);
  const keys = Object.keys(totals).sort((a, b) => (totals[b] ?? 0) - (totals[a] ?? 0));
  if (keys.length === 0) {
    const tr = document.createElement('tr');
    cell(tr, '—');
    cell(tr, '0', 'r');
    body.appendChild(tr);
  }
  for (const k of keys) {
    const tr = document.createElement('tr');
    cell(tr, k);
    cell(tr, String(totals[k]), 'r');
    body.appendChild(tr);
  }
}
