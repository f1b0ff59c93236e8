/**
 * The operators' live page (served as /live/app.js; a module, so deferred and strict).
 *
 * It reads `/v1/live/events` with fetch() and a streaming body reader rather than EventSource,
 * so it can send the operator token in an Authorization header: the token never appears in a
 * URL or an access log. Every value from the stream reaches the DOM through textContent (a gate
 * id is whatever a validator sent). Type-checked by tsc (tsconfig.json beside this file) against
 * the wire types the server sends, and linted by eslint.
 *
 * @typedef {import('../../ops/live-wire.js').LiveSnapshot} LiveSnapshot
 * @typedef {import('../../ops/live-wire.js').LiveDecision} LiveDecision
 * @typedef {import('../../ops/live-wire.js').DecisionBatch} DecisionBatch
 * @typedef {import('../../ops/live-wire.js').LiveDevice} LiveDevice
 * @typedef {import('../../ops/live-wire.js').MinuteCounts} MinuteCounts
 * @typedef {import('../../ops/live-wire.js').LiveHistory} LiveHistory
 * @typedef {import('../../ops/live-wire.js').LiveGateHistory} LiveGateHistory
 * @typedef {import('../../ops/live-wire.js').LiveCity} LiveCity
 * @typedef {'connecting' | 'live' | 'stale' | 'down' | 'locked'} ConnState
 */

const MAX_ROWS = 100;
const STALE_AFTER_MS = 20000;
const TOKEN_KEY = 'hes-gate-live-token';
/** The journal's history changes slowly; the server caches it for a few seconds anyway. */
const HISTORY_EVERY_MS = 60000;

/**
 * The element with this id; the page is static, so a missing one is a bug worth an exception.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} [type] the element's class, when more than an HTMLElement is needed
 * @returns {T}
 */
function $(id, type) {
  const el = document.getElementById(id);
  if (el === null || !(el instanceof (type ?? HTMLElement))) throw new Error(`#${id} is missing from the page`);
  return /** @type {T} */ (el);
}

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let retryMs = 3000;
let backoff = 0;
let lastMessageAt = 0;
/** @type {AbortController | null} */
let controller = null;
let paused = false;
/** @type {LiveDecision[]} */
let held = [];
/** @type {ReturnType<typeof setTimeout> | null} */
let reconnectTimer = null;
/** The first batch of a connection is the feed's history: it replaces the table rather than adding to it. */
let firstBatch = true;

/** @type {Record<ConnState, string>} */
const CONN = {
  connecting: 'Bağlanıyor · Connecting…',
  live: 'Canlı · Live',
  stale: 'Yanıt yok · No updates',
  down: 'Bağlantı koptu · Reconnecting…',
  locked: 'Belirteç gerekli · Token required',
};
/** @type {Record<string, string | undefined>} */
const ENV = { simulator: 'Simülatör · Simulator', test: 'Test ortamı · Test', live: 'Canlı ortam · Live' };
/** @type {Record<string, string | undefined>} */
const MINISTRY_CLASS = { up: 'ok', degraded: 'warn', unknown: '', down: 'bad', 'credentials-refused': 'bad' };
/** @type {Record<string, string | undefined>} */
const CIRCUIT_CLASS = { closed: 'ok', 'half-open': 'warn', open: 'bad' };
/** @type {Record<string, string | undefined>} */
const CITY_CLASS = { live: 'ok', resyncing: 'warn', connecting: 'warn', degraded: 'bad' };
/** @type {Record<string, string | undefined>} */
const DEVICE_CLASS = { open: 'ok', reconnecting: 'warn', closed: 'bad', failing: 'bad' };

/** @param {ConnState} s */
function setConn(s) {
  const el = $('conn');
  el.className = `conn conn-${s}`;
  el.textContent = CONN[s];
}

/**
 * @param {HTMLElement} el
 * @param {string | number | null | undefined} value shown as a dash when absent
 */
function text(el, value) {
  el.textContent = value === null || value === undefined || value === '' ? '—' : String(value);
}

/**
 * @param {HTMLElement} el
 * @param {string} value
 * @param {string | undefined} cls
 */
function pill(el, value, cls) {
  el.textContent = value;
  el.className = `pill ${cls ?? ''}`;
}

/** @param {number} n */
const pad = (n) => (n < 10 ? `0${n}` : String(n));

/** @param {number} ms */
function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** @param {number} ms */
function hhmm(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * @param {number} ms
 * @param {number} now
 */
function ago(ms, now) {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/**
 * @param {HTMLTableRowElement} tr
 * @param {string} value
 * @param {string} [cls]
 */
function cell(tr, value, cls) {
  const td = document.createElement('td');
  td.textContent = value;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

/** @param {HTMLElement} el */
function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/**
 * @param {MinuteCounts[]} list
 * @param {'pass' | 'deny' | 'fallbacks' | 'commandFailures' | 'ministryCalls' | 'ministryErrors' | 'ministryMsSum'} key
 */
const sum = (list, key) => list.reduce((a, b) => a + b[key], 0);

/** @param {LiveSnapshot} s */
function onSnapshot(s) {
  const env = $('env');
  env.className = `badge env-${ENV[s.environment] ? s.environment : 'unknown'}`;
  env.textContent = ENV[s.environment] ?? s.environment;

  const m = s.ministry;
  pill($('m-state'), m.state, MINISTRY_CLASS[m.state]);
  let circuit = m.circuit;
  if (m.circuit === 'open' && m.openUntil > s.at) circuit += ` (probe in ${Math.ceil((m.openUntil - s.at) / 1000)} s)`;
  if (m.pausedUntil > s.at) circuit += ` · paused (429) ${Math.ceil((m.pausedUntil - s.at) / 1000)} s`;
  pill($('m-circuit'), circuit, CIRCUIT_CLASS[m.circuit]);
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
  text($('city-role'), c.role === 'hub' ? 'hub' : 'istasyon · station');
  pill($('city-state'), c.state === null ? 'starting' : c.reason ? `${c.state} (${c.reason})` : c.state, c.state === null ? undefined : CITY_CLASS[c.state]);
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

/** @param {MinuteCounts[]} minutes */
function renderMinutes(minutes) {
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
 * @param {HTMLElement} body
 * @param {MinuteCounts[]} minutes
 * @param {'byReason' | 'bySource'} key
 */
function renderCounts(body, minutes, key) {
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

/**
 * @param {LiveDevice[]} devices
 * @param {number} now
 */
function renderDevices(devices, now) {
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
    pill(span, d.state, DEVICE_CLASS[d.state]);
    td.appendChild(span);
    cell(tr, ago(d.since, now));
    cell(tr, String(d.reopens), 'r');
    cell(tr, d.lastError || '—', 'wrap');
    body.appendChild(tr);
  }
}

/** @param {number} ms */
const msCell = (ms) => ms.toFixed(1);

/** @param {LiveHistory} h */
function onHistory(h) {
  $('journal-off').hidden = h.journal;
  const error = $('journal-error');
  error.hidden = !h.error;
  error.textContent = h.error ? `Karar kaydı okunamadı · The decision journal could not be read: ${h.error}` : '';
  const unconfigured = $('unconfigured');
  unconfigured.hidden = h.unconfigured.length === 0;
  unconfigured.textContent = `Yapılandırmada yok · Not in the configuration: ${h.unconfigured.join(', ')} (varsayılan politikayla karar verildi · decided with the default policy)`;
  const idle = $('idle');
  idle.hidden = h.idle.length === 0;
  idle.textContent = `Yapılandırılmış, 24 saatte karar yok · Configured, no decisions in 24 h: ${h.idle.join(', ')}`;
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
    tag.textContent = 'yapılandırmada yok · not configured';
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

/** @type {ReturnType<typeof setTimeout> | null} */
let historyTimer = null;

/** Reads the journal's last 24 hours, then again every HISTORY_EVERY_MS. */
async function loadHistory() {
  if (historyTimer !== null) clearTimeout(historyTimer);
  historyTimer = setTimeout(() => void loadHistory(), HISTORY_EVERY_MS);
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    const res = await fetch('/v1/live/history', { headers, cache: 'no-store' });
    // No history route (an older service) or no token yet: the stream's own handling says why.
    if (!res.ok) return;
    onHistory(/** @type {LiveHistory} */ (await res.json()));
  } catch {
    // The stream shows the connection's state; the next period tries again.
  }
}

/** @param {DecisionBatch} batch */
function onDecisions(batch) {
  if (batch.missed > 0) {
    const note = $('missed');
    note.hidden = false;
    note.textContent = `${batch.missed} karar listelenemeyecek kadar hızlı geldi (yukarıda sayıldılar) · ${batch.missed} decisions came too fast to list (they are counted above).`;
  }
  if (firstBatch) {
    firstBatch = false;
    clear($('decisions'));
    held = [];
    addRows(batch.events, false);
    return;
  }
  if (paused) {
    held = held.concat(batch.events).slice(-MAX_ROWS);
    return;
  }
  addRows(batch.events, true);
}

/**
 * @param {LiveDecision[]} events oldest first; each goes on top
 * @param {boolean} fresh highlight the rows as just arrived
 */
function addRows(events, fresh) {
  const body = $('decisions');
  for (const e of events) {
    const tr = document.createElement('tr');
    tr.className = e.verdict + (fresh ? ' fresh' : '');
    cell(tr, clock(e.at));
    const where = e.gate + (e.reader ? ` / ${e.reader}` : '');
    cell(tr, where, 'gate').title = where;
    cell(tr, e.kind);
    cell(tr, e.verdict === 'pass' ? 'geçiş · pass' : 'ret · deny', 'verdict');
    cell(tr, e.reason);
    cell(tr, e.source);
    cell(tr, e.elapsedMs.toFixed(1), 'r');
    body.insertBefore(tr, body.firstChild);
  }
  while (body.children.length > MAX_ROWS && body.lastChild) body.removeChild(body.lastChild);
  $('no-decisions').hidden = body.children.length > 0;
}

/**
 * @param {string} name
 * @param {string} data
 */
function dispatch(name, data) {
  lastMessageAt = Date.now();
  if (name === 'snapshot') onSnapshot(/** @type {LiveSnapshot} */ (JSON.parse(data)));
  else if (name === 'decisions') onDecisions(/** @type {DecisionBatch} */ (JSON.parse(data)));
}

/** One Server-Sent Events block (the lines between two blank lines). @param {string} block */
function parseBlock(block) {
  let name = 'message';
  /** @type {string[]} */
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.charAt(0) === ':') continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
  }
  if (data.length > 0) dispatch(name, data.join('\n'));
}

/** @param {ReadableStream<Uint8Array>} body */
async function read(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) return;
    lastMessageAt = Date.now();
    buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      parseBlock(block);
    }
  }
}

/** @param {string} message */
function showTokenForm(message) {
  $('token-form').hidden = false;
  $('token-error').textContent = message;
  $('token').focus();
}

function scheduleReconnect() {
  if (reconnectTimer !== null) return;
  const wait = Math.min(30000, retryMs * Math.pow(2, backoff));
  backoff = Math.min(backoff + 1, 4);
  reconnectTimer = setTimeout(() => {
    reconnectTimer = null;
    void connect();
  }, wait);
}

async function connect() {
  if (controller) controller.abort();
  const mine = new AbortController();
  controller = mine;
  setConn('connecting');
  /** @type {Record<string, string>} */
  const headers = { Accept: 'text/event-stream' };
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    const res = await fetch('/v1/live/events', { headers, cache: 'no-store', signal: mine.signal });
    if (res.status === 401) {
      setConn('locked');
      showTokenForm(token ? 'Belirteç reddedildi · That token was refused' : '');
      return;
    }
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    $('token-form').hidden = true;
    firstBatch = true;
    setConn('live');
    void loadHistory();
    backoff = 0;
    lastMessageAt = Date.now();
    await read(res.body);
  } catch {
    // A connection we aborted ourselves (a newer one replaced it) is not a failure.
    if (mine.signal.aborted && controller !== mine) return;
  }
  if (controller === mine) {
    controller = null;
    setConn('down');
    scheduleReconnect();
  }
}

/** A stream that stays silent past the heartbeat is dead even if the socket looks open. */
function watch() {
  if (controller && lastMessageAt && Date.now() - lastMessageAt > STALE_AFTER_MS) {
    setConn('stale');
    const c = controller;
    controller = null;
    c.abort();
    scheduleReconnect();
  }
}

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $('token', HTMLInputElement);
  token = input.value;
  sessionStorage.setItem(TOKEN_KEY, token);
  input.value = '';
  void connect();
});
$('pause').addEventListener('click', () => {
  const button = $('pause');
  paused = !paused;
  button.setAttribute('aria-pressed', String(paused));
  button.textContent = paused ? 'Devam · Resume' : 'Duraklat · Pause';
  if (!paused) {
    addRows(held, false);
    held = [];
  }
});
setInterval(watch, 2000);
void connect();
