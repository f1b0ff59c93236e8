/**
 * The live page's 24-hour table: per gate, its decisions, latency and an hourly bar chart.
 *
 * @typedef {import('../../ops/live-wire.js').LiveHistory} LiveHistory
 * @typedef {import('../../ops/live-wire.js').LiveGateHistory} LiveGateHistory
 */
import { $, cell, clear, hhmm, msCell, text } from './dom.js';

/** The last 24 hours per gate, from the decision journal. @param {LiveHistory} h */
export function renderHistory(h) {
  $('journal-off').hidden = h.journal;
  const error = $('journal-error');
  error.hidden = !h.error;
  error.textContent = h.error ? `The decision journal could not be read: ${h.error}` : '';
  const unconfigured = $('unconfigured');
  unconfigured.hidden = h.unconfigured.length === 0;
  unconfigured.textContent = `Not in the configuration · Yapılandırmada yok: ${h.unconfigured.join(', ')} (decided with the default policy)`;
  const idle = $('idle');
  idle.hidden = h.idle.length === 0;
  idle.textContent = `Configured, no decisions in 24 h · Yapılandırılmış, karar yok: ${h.idle.join(', ')}`;
  text($('history-range'), `since ${hhmm(h.from)}`);
  const body = $('history');
  clear(body);
  for (const g of h.gates) body.appendChild(historyRow(g, h));
  $('no-history').hidden = !h.journal || h.gates.some((g) => g.decisions > 0);
}

/**
 * @param {LiveGateHistory} g
 * @param {LiveHistory} h
 */
function historyRow(g, h) {
  const tr = document.createElement('tr');
  if (!g.configured) tr.className = 'unconfigured';
  const gate = cell(tr, g.gate, 'gate');
  gate.title = g.gate;
  if (!g.configured) {
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = 'not configured';
    gate.appendChild(tag);
  }
  cell(tr, String(g.decisions), 'r');
  cell(tr, String(g.pass), 'r num-pass');
  cell(tr, String(g.deny), 'r num-deny');
  cell(tr, g.topDeny.map((r) => `${r.reason} ${r.count}`).join(', ') || '—', 'wrap');
  const timed = g.decisions > 0;
  cell(tr, timed ? msCell(g.p50Ms) : '—', 'r');
  cell(tr, timed ? msCell(g.p95Ms) : '—', 'r');
  cell(tr, timed ? msCell(g.p99Ms) : '—', 'r');
  cell(tr, timed ? msCell(g.maxMs) : '—', 'r');
  const td = cell(tr, '');
  const hours = document.createElement('div');
  hours.className = 'hours';
  hours.setAttribute('role', 'img');
  hours.setAttribute('aria-label', `${g.gate}: ${g.pass} pass, ${g.deny} deny in 24 h`);
  const most = g.buckets.reduce((a, b) => Math.max(a, b.pass + b.deny), 1);
  g.buckets.forEach((b, i) => {
    const col = document.createElement('div');
    col.className = 'h';
    col.title = `${hhmm(h.from + i * h.bucketMs)}: ${b.pass} pass, ${b.deny} deny`;
    for (const [cls, n] of /** @type {const} */ ([['p', b.pass], ['d', b.deny]])) {
      const bar = document.createElement('span');
      bar.className = cls;
      bar.style.height = `${(100 * n) / most}%`;
      col.appendChild(bar);
    }
    hours.appendChild(col);
  });
  td.appendChild(hours);
  return tr;
}
