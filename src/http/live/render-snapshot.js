/**
 * The status cards of the live page (ministry, cache, decisions, the city), from one snapshot.
 *
 * @typedef {import('../../ops/live-wire.js').LiveSnapshot} LiveSnapshot
 * @typedef {import('../../ops/live-wire.js').MinuteCounts} MinuteCounts
 * @typedef {import('../../ops/live-wire.js').LiveCity} LiveCity
 */
import { $, ago, clock, own, pill, text } from './dom.js';
import { renderDevices } from './render-devices.js';
import { renderCounts, renderMinutes } from './render-minutes.js';

/** @type {Record<string, string | undefined>} */
const ENV = { simulator: 'Simülatör · Simulator', test: 'Test ortamı · Test', live: 'Canlı ortam · Live' };
/** @type {Record<string, string | undefined>} */
const MINISTRY_CLASS = { up: 'ok', degraded: 'warn', unknown: '', down: 'bad', 'credentials-refused': 'bad' };
/** @type {Record<string, string | undefined>} */
const CIRCUIT_CLASS = { closed: 'ok', 'half-open': 'warn', open: 'bad' };
/** @type {Record<string, string | undefined>} */
const CITY_CLASS = { live: 'ok', resyncing: 'warn', connecting: 'warn', degraded: 'bad' };

/**
 * @param {MinuteCounts[]} list
 * @param {'pass' | 'deny' | 'fallbacks' | 'commandFailures' | 'ministryCalls' | 'ministryErrors' | 'ministryMsSum'} key
 */
const sum = (list, key) => list.reduce((a, b) => a + b[key], 0);

/** Every card of the page from one status snapshot. @param {LiveSnapshot} s */
export function renderSnapshot(s) {
  const env = $('env');
  const label = own(ENV, s.environment);
  env.className = `badge env-${label ? s.environment : 'unknown'}`;
  env.textContent = label ?? s.environment;

  const m = s.ministry;
  pill($('m-state'), m.state, own(MINISTRY_CLASS, m.state));
  let circuit = m.circuit;
  if (m.circuit === 'open' && m.openUntil > s.at) circuit += ` (probe in ${Math.ceil((m.openUntil - s.at) / 1000)} s)`;
  if (m.pausedUntil > s.at) circuit += ` · paused (429) ${Math.ceil((m.pausedUntil - s.at) / 1000)} s`;
  pill($('m-circuit'), circuit, own(CIRCUIT_CLASS, m.circuit));
  text($('m-error'), m.lastError);
  text($('m-success'), m.lastSuccessAt ? `${clock(m.lastSuccessAt)} (${ago(m.lastSuccessAt, s.at)})` : null);

  const recent = s.minutes.filter((b) => b.minute > s.at - 5 * 60000);
  const calls = sum(recent, 'ministryCalls');
  const errors = sum(recent, 'ministryErrors');
  text($('m-calls'), calls + (errors ? ` (${errors} failed)` : ''));
  const max = recent.reduce((a, b) => Math.max(a, b.ministryMsMax), 0);
  text($('m-latency'), calls ? `${Math.round(sum(recent, 'ministryMsSum') / calls)} ms / ${Math.round(max)} ms` : null);

  const c = s.cache;
  text($('c-entries'), c.entries.toLocaleString('en-GB'));
  const lookups = c.hits + c.misses;
  $('c-meter', HTMLMeterElement).value = lookups ? c.hits / lookups : 0;
  text($('c-ratio'), lookups ? `${((100 * c.hits) / lookups).toFixed(1)} %` : null);
  text($('c-lookups'), lookups.toLocaleString('en-GB'));
  text($('c-stale'), c.stale.toLocaleString('en-GB'));
  text($('c-inflight'), c.inflight);

  const pass = sum(recent, 'pass');
  const deny = sum(recent, 'deny');
  text($('d-pass'), pass);
  text($('d-deny'), deny);
  const span = Math.max(1, Math.min(5, recent.length));
  text($('d-rate'), ((pass + deny) / span).toFixed(1));
  const failures = sum(recent, 'commandFailures');
  text($('d-fallbacks'), sum(recent, 'fallbacks') + (failures ? ` (gate command failures: ${failures})` : ''));
  text($('d-total'), s.decisions.toLocaleString('en-GB'));
  text($('d-loop'), s.loop ? `${s.loop.p99Ms.toFixed(1)} ms / ${s.loop.maxMs.toFixed(1)} ms` : null);

  renderMinutes(s.minutes);
  renderCounts($('reasons'), s.minutes, 'byReason');
  renderCounts($('sources'), s.minutes, 'bySource');
  renderDevices(s.devices, s.at);
  renderCity(s.city ?? null, s.at);
  text($('updated'), clock(s.at));
}

/**
 * The city card: shown only on a station or hub of a city (standalone sends no `city`).
 * @param {LiveCity | null} c
 * @param {number} now
 */
function renderCity(c, now) {
  const card = $('city');
  card.hidden = c === null;
  if (c === null) return;
  text($('city-role'), c.role === 'hub' ? 'hub · merkez' : 'station · istasyon');
  pill($('city-state'), c.state === null ? 'starting' : c.reason ? `${c.state} (${c.reason})` : c.state, c.state === null ? undefined : own(CITY_CLASS, c.state));
  const lag = c.lagSeconds < 10 ? c.lagSeconds.toFixed(1) : c.lagSeconds.toFixed(0);
  text($('city-lag'), `${lag} s · ${c.lagEntries.toLocaleString('en-GB')} entries`);
  text($('city-applied'), c.lastAppliedAt === null ? null : `${clock(c.lastAppliedAt)} (${ago(c.lastAppliedAt, now)})`);
  text($('city-snapshots'), c.snapshots);
  for (const el of card.querySelectorAll('.hub-only')) if (el instanceof HTMLElement) el.hidden = c.hub === null;
  const h = c.hub;
  if (h === null) return;
  const lease = h.holding ? `held here (token ${h.token ?? '?'})` : h.leaseHolder === null ? 'nobody holds it' : `held by ${h.leaseHolder}`;
  pill($('city-lease'), lease + (h.fenced ? ` · ${h.fenced} writes fenced` : ''), h.holding ? 'ok' : h.leaseHolder === null ? 'bad' : undefined);
  const progress = h.rotationProgress === null ? null : `${Math.round(h.rotationProgress * 100)} % done`;
  const last = h.lastRotationDurationMs === null ? null : `last took ${Math.round(h.lastRotationDurationMs / 1000)} s`;
  text($('city-rotation'), [progress, last].filter((v) => v !== null).join(' · '));
}
