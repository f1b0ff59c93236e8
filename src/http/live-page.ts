/**
 * The operators' live page: one HTML shell, one stylesheet, one script, served by
 * routes/live.ts from these constants. No build step, no framework, nothing fetched from
 * elsewhere (a station office has no internet), and no inline script or style, so the page runs
 * under `default-src 'self'` without 'unsafe-inline'.
 *
 * The script reads `/v1/live/events` with fetch() and a streaming body reader rather than
 * EventSource, so it can send the operator token in an Authorization header. Every value from
 * the stream reaches the DOM through textContent (a gate id is whatever a validator sent).
 */

export const LIVE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hes-gate · live</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/live/app.css">
<script src="/live/app.js" defer></script>
</head>
<body>
<header class="bar">
  <h1>hes-gate <span class="sub">Canlı izleme · Live</span></h1>
  <span id="env" class="badge env-unknown" title="Ministry environment">…</span>
  <span id="conn" class="conn conn-connecting" role="status">Bağlanıyor · Connecting…</span>
</header>
<main>
  <form id="token-form" class="token" hidden>
    <label for="token">Operatör anahtarı · Operator token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required>
    <button type="submit">Bağlan · Connect</button>
    <p id="token-error" class="token-error" role="alert"></p>
  </form>

  <section class="cards" aria-label="Summary">
    <article class="card" aria-labelledby="h-ministry">
      <h2 id="h-ministry">Bakanlık <span class="en">Ministry</span></h2>
      <dl>
        <dt>State</dt><dd><span id="m-state" class="pill">…</span></dd>
        <dt>Circuit</dt><dd><span id="m-circuit" class="pill">…</span></dd>
        <dt>Last error</dt><dd id="m-error">—</dd>
        <dt>Last success</dt><dd id="m-success">—</dd>
        <dt>Calls (5 min)</dt><dd id="m-calls">—</dd>
        <dt>Latency avg / max</dt><dd id="m-latency">—</dd>
      </dl>
    </article>
    <article class="card" aria-labelledby="h-cache">
      <h2 id="h-cache">Önbellek <span class="en">Cache</span></h2>
      <dl>
        <dt>Codes held</dt><dd id="c-entries">—</dd>
        <dt>Hit ratio</dt><dd><meter id="c-meter" min="0" max="1" value="0" aria-labelledby="c-ratio"></meter> <span id="c-ratio">—</span></dd>
        <dt>Lookups</dt><dd id="c-lookups">—</dd>
        <dt>Stale answers</dt><dd id="c-stale">—</dd>
        <dt>Ministry calls in flight</dt><dd id="c-inflight">—</dd>
      </dl>
    </article>
    <article class="card" aria-labelledby="h-rate">
      <h2 id="h-rate">Kararlar <span class="en">Decisions</span></h2>
      <dl>
        <dt>Pass (5 min)</dt><dd id="d-pass" class="num-pass">—</dd>
        <dt>Deny (5 min)</dt><dd id="d-deny" class="num-deny">—</dd>
        <dt>Per minute</dt><dd id="d-rate">—</dd>
        <dt>Deadline fallbacks (5 min)</dt><dd id="d-fallbacks">—</dd>
        <dt>Since start</dt><dd id="d-total">—</dd>
      </dl>
    </article>
  </section>

  <section class="panel" aria-labelledby="h-devices">
    <h2 id="h-devices">Cihazlar <span class="en">Devices</span></h2>
    <div class="scroll">
      <table class="devices">
        <thead><tr>
          <th scope="col">Device</th><th scope="col">Role</th><th scope="col">Gates</th><th scope="col">Port</th>
          <th scope="col">Profile</th><th scope="col">State</th><th scope="col">Since</th><th scope="col" class="r">Reopens</th><th scope="col">Last error</th>
        </tr></thead>
        <tbody id="devices"></tbody>
      </table>
    </div>
    <p id="no-devices" class="empty">No serial devices configured (HTTP validators only).</p>
  </section>
  <div class="columns">
    <section class="panel wide" aria-labelledby="h-decisions">
      <div class="panel-head">
        <h2 id="h-decisions">Son kararlar <span class="en">Last decisions</span></h2>
        <button id="pause" type="button" aria-pressed="false">Duraklat · Pause</button>
      </div>
      <p id="missed" class="note" hidden></p>
      <div class="scroll tall">
        <table class="decisions">
          <caption class="sr-only">The most recent decisions, newest first</caption>
          <thead><tr>
            <th scope="col">Time</th><th scope="col">Gate</th><th scope="col">Kind</th><th scope="col">Verdict</th>
            <th scope="col">Reason</th><th scope="col">Source</th><th scope="col" class="r">Elapsed ms</th>
          </tr></thead>
          <tbody id="decisions" aria-live="polite" aria-relevant="additions"></tbody>
        </table>
      </div>
      <p id="no-decisions" class="empty">No decisions yet · Henüz karar yok</p>
    </section>

    <section class="panel" aria-labelledby="h-minutes">
      <h2 id="h-minutes">Dakika başına <span class="en">Per minute</span></h2>
      <table class="minutes">
        <caption class="sr-only">Decisions and ministry calls per minute, newest first</caption>
        <thead><tr>
          <th scope="col">Minute</th><th scope="col" class="r">Pass</th><th scope="col" class="r">Deny</th>
          <th scope="col" class="r"><abbr title="Ministry calls">Calls</abbr></th><th scope="col" class="r"><abbr title="Failed ministry calls">Failed</abbr></th><th scope="col"><span class="sr-only">Share</span></th>
        </tr></thead>
        <tbody id="minutes"></tbody>
      </table>
      <h3>By reason (15 min)</h3>
      <table class="counts">
        <thead><tr><th scope="col">Reason</th><th scope="col" class="r">Decisions</th></tr></thead>
        <tbody id="reasons"></tbody>
      </table>
      <h3>By source (15 min)</h3>
      <table class="counts">
        <thead><tr><th scope="col">Source</th><th scope="col" class="r">Decisions</th></tr></thead>
        <tbody id="sources"></tbody>
      </table>
    </section>
  </div>

</main>
<footer>Updated <span id="updated">—</span>. No personal data is shown here: HES codes, card ids and QR payloads never leave the service.</footer>
</body>
</html>
`;

export const LIVE_CSS = `
:root { --bg:#f4f6f8; --fg:#1b2430; --muted:#5b6675; --card:#fff; --line:#d9dee5;
  --pass:#17683a; --pass-bg:#dff3e6; --deny:#a4161a; --deny-bg:#fbe2e2; --warn:#8a5a00; --warn-bg:#fff1cc; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--fg); background: var(--bg); }
.bar { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem; padding: .6rem 1rem; background: #1b2430; color: #fff; }
.bar h1 { margin: 0; font-size: 1.2rem; margin-right: auto; }
.bar .sub { font-weight: 400; opacity: .8; font-size: .95rem; }
.badge { padding: .2rem .6rem; border-radius: .3rem; font-weight: 700; letter-spacing: .05em; text-transform: uppercase; font-size: .85rem; }
.env-simulator { background: #dbe4ff; color: #1d3b8f; }
.env-test { background: #ffd66b; color: #4a3300; }
.env-live { background: #c92a2a; color: #fff; }
.env-unknown { background: #666; color: #fff; }
.conn { font-size: .9rem; padding: .2rem .6rem; border-radius: .3rem; }
.conn-live { background: #2b8a3e; }
.conn-connecting, .conn-stale { background: #8a5a00; }
.conn-locked, .conn-down { background: #a4161a; }
main { padding: 1rem; max-width: 1400px; margin: 0 auto; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
h2 .en { font-weight: 400; color: var(--muted); }
h3 { font-size: .95rem; margin: 1rem 0 .3rem; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 1rem; margin-bottom: 1rem; }
.card, .panel { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .8rem 1rem; }
.panel { margin-bottom: 1rem; min-width: 0; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .25rem .8rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
meter { width: 6rem; vertical-align: middle; }
.pill { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-weight: 600; background: #e9ecef; }
.ok { background: var(--pass-bg); color: var(--pass); }
.warn { background: var(--warn-bg); color: var(--warn); }
.bad { background: var(--deny-bg); color: var(--deny); }
.num-pass { color: var(--pass); font-weight: 700; }
.num-deny { color: var(--deny); font-weight: 700; }
.columns { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 1rem; }
@media (max-width: 900px) {
  .columns { grid-template-columns: minmax(0, 1fr); }
  main { padding: .6rem; }
  table { font-size: .88rem; }
  th, td { padding: .25rem .3rem; }
  td.gate { max-width: 7rem; }
}
.panel-head { display: flex; align-items: center; justify-content: space-between; gap: .5rem; }
.scroll { overflow-x: auto; }
.tall { max-height: 34rem; overflow-y: auto; }
.tall thead th { position: sticky; top: 0; background: var(--card); z-index: 1; }
td.gate { max-width: 11rem; overflow: hidden; text-overflow: ellipsis; }
abbr { text-decoration: none; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; white-space: normal; vertical-align: bottom; }
td.wrap { white-space: normal; min-width: 8rem; }
.r { text-align: right; }
tr.pass td.verdict { color: var(--pass); font-weight: 700; }
tr.deny td.verdict { color: var(--deny); font-weight: 700; }
tr.pass { background: #f3fbf6; }
tr.deny { background: #fdf3f3; }
tr.fresh td { animation: fresh 1.5s ease-out; }
@keyframes fresh { from { background: #fff3bf; } to { background: transparent; } }
@media (prefers-reduced-motion: reduce) { tr.fresh td { animation: none; } }
.bar-cell { width: 30%; min-width: 4rem; }
.minutes th, .minutes td { padding: .3rem .35rem; }
.share { display: flex; height: .7rem; border-radius: .2rem; overflow: hidden; background: #eef0f3; }
.share .p { background: #37b24d; }
.share .d { background: #e03131; }
button { font: inherit; padding: .35rem .8rem; border: 1px solid #8a94a3; border-radius: .3rem; background: #fff; cursor: pointer; }
button[aria-pressed="true"] { background: #ffd66b; border-color: #8a5a00; }
button:focus-visible, input:focus-visible { outline: 3px solid #4c6ef5; outline-offset: 2px; }
.token { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; background: var(--card); border: 2px solid #c92a2a; border-radius: .5rem; padding: .8rem 1rem; margin-bottom: 1rem; }
.token input { font: inherit; padding: .35rem; min-width: 16rem; }
.token-error { color: var(--deny); margin: 0; width: 100%; }
.token-error:empty { display: none; }
.empty, .note { color: var(--muted); margin: .5rem 0 0; }
.note { color: var(--warn); }
[hidden] { display: none !important; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
footer { padding: 0 1rem 1rem; color: var(--muted); font-size: .85rem; text-align: center; }
`;

export const LIVE_JS = String.raw`(function () {
  'use strict';
  var MAX_ROWS = 100;
  var STALE_AFTER_MS = 20000;
  var TOKEN_KEY = 'hes-gate-live-token';
  var $ = function (id) { return document.getElementById(id); };

  var token = sessionStorage.getItem(TOKEN_KEY) || '';
  var retryMs = 3000;
  var backoff = 0;
  var lastMessageAt = 0;
  var controller = null;
  var paused = false;
  var held = [];
  var reconnectTimer = null;
  /** The first batch of a connection is the feed's history: it replaces the table rather than adding to it. */
  var firstBatch = true;

  var CONN = {
    connecting: 'Bağlanıyor · Connecting…',
    live: 'Canlı · Live',
    stale: 'Yanıt yok · No updates',
    down: 'Bağlantı koptu · Reconnecting…',
    locked: 'Anahtar gerekli · Token required'
  };
  var ENV = { simulator: 'Simülatör · Simulator', test: 'Test ortamı · Test', live: 'Canlı ortam · Live' };
  var MINISTRY_CLASS = { up: 'ok', degraded: 'warn', unknown: '', down: 'bad', 'credentials-refused': 'bad' };
  var CIRCUIT_CLASS = { closed: 'ok', 'half-open': 'warn', open: 'bad' };
  var DEVICE_CLASS = { open: 'ok', reconnecting: 'warn', closed: 'bad' };

  function setConn(s) {
    var el = $('conn');
    el.className = 'conn conn-' + s;
    el.textContent = CONN[s];
  }

  function text(el, value) { el.textContent = value === null || value === undefined || value === '' ? '—' : String(value); }
  function pill(el, value, cls) { el.textContent = value; el.className = 'pill ' + (cls || ''); }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function clock(ms) { var d = new Date(ms); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }
  function hhmm(ms) { var d = new Date(ms); return pad(d.getHours()) + ':' + pad(d.getMinutes()); }
  function ago(ms, now) {
    var s = Math.max(0, Math.round((now - ms) / 1000));
    return s < 60 ? s + ' s ago' : s < 3600 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago';
  }
  function cell(tr, value, cls) {
    var td = document.createElement('td');
    td.textContent = value;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function onSnapshot(s) {
    var env = $('env');
    env.className = 'badge env-' + (ENV[s.environment] ? s.environment : 'unknown');
    env.textContent = ENV[s.environment] || s.environment;

    var m = s.ministry;
    pill($('m-state'), m.state, MINISTRY_CLASS[m.state]);
    var circuit = m.circuit;
    if (m.circuit === 'open' && m.openUntil > s.at) circuit += ' (probe in ' + Math.ceil((m.openUntil - s.at) / 1000) + ' s)';
    if (m.pausedUntil > s.at) circuit += ' · paused (429) ' + Math.ceil((m.pausedUntil - s.at) / 1000) + ' s';
    pill($('m-circuit'), circuit, CIRCUIT_CLASS[m.circuit]);
    text($('m-error'), m.lastError);
    text($('m-success'), m.lastSuccessAt ? clock(m.lastSuccessAt) + ' (' + ago(m.lastSuccessAt, s.at) + ')' : null);

    var recent = s.minutes.filter(function (b) { return b.minute > s.at - 5 * 60000; });
    var sum = function (list, key) { return list.reduce(function (a, b) { return a + b[key]; }, 0); };
    var calls = sum(recent, 'ministryCalls');
    var errors = sum(recent, 'ministryErrors');
    text($('m-calls'), calls + (errors ? ' (' + errors + ' failed)' : ''));
    var max = recent.reduce(function (a, b) { return Math.max(a, b.ministryMsMax); }, 0);
    text($('m-latency'), calls ? Math.round(sum(recent, 'ministryMsSum') / calls) + ' ms / ' + Math.round(max) + ' ms' : null);

    var c = s.cache;
    text($('c-entries'), c.entries.toLocaleString('en-GB'));
    var lookups = c.hits + c.misses;
    $('c-meter').value = lookups ? c.hits / lookups : 0;
    text($('c-ratio'), lookups ? (100 * c.hits / lookups).toFixed(1) + ' %' : null);
    text($('c-lookups'), lookups.toLocaleString('en-GB'));
    text($('c-stale'), c.stale.toLocaleString('en-GB'));
    text($('c-inflight'), c.inflight);

    var pass = sum(recent, 'pass');
    var deny = sum(recent, 'deny');
    text($('d-pass'), pass);
    text($('d-deny'), deny);
    var span = Math.max(1, Math.min(5, recent.length));
    text($('d-rate'), ((pass + deny) / span).toFixed(1));
    var failures = sum(recent, 'commandFailures');
    text($('d-fallbacks'), sum(recent, 'fallbacks') + (failures ? ' (gate command failures: ' + failures + ')' : ''));
    text($('d-total'), s.decisions.toLocaleString('en-GB'));

    renderMinutes(s.minutes);
    renderCounts($('reasons'), s.minutes, 'byReason');
    renderCounts($('sources'), s.minutes, 'bySource');
    renderDevices(s.devices, s.at);
    text($('updated'), clock(s.at));
  }

  function renderMinutes(minutes) {
    var body = $('minutes');
    clear(body);
    var most = minutes.reduce(function (a, b) { return Math.max(a, b.pass + b.deny); }, 1);
    minutes.slice().reverse().forEach(function (b) {
      var tr = document.createElement('tr');
      cell(tr, hhmm(b.minute));
      cell(tr, String(b.pass), 'r num-pass');
      cell(tr, String(b.deny), 'r num-deny');
      cell(tr, String(b.ministryCalls), 'r');
      cell(tr, String(b.ministryErrors), 'r' + (b.ministryErrors ? ' num-deny' : ''));
      var td = cell(tr, '', 'bar-cell');
      var share = document.createElement('div');
      share.className = 'share';
      share.setAttribute('aria-hidden', 'true');
      var p = document.createElement('span');
      p.className = 'p';
      p.style.width = (100 * b.pass / most) + '%';
      var d = document.createElement('span');
      d.className = 'd';
      d.style.width = (100 * b.deny / most) + '%';
      share.appendChild(p);
      share.appendChild(d);
      td.appendChild(share);
      body.appendChild(tr);
    });
  }

  function renderCounts(body, minutes, key) {
    var totals = {};
    minutes.forEach(function (b) {
      Object.keys(b[key]).forEach(function (k) { totals[k] = (totals[k] || 0) + b[key][k]; });
    });
    clear(body);
    var keys = Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a]; });
    if (keys.length === 0) {
      var tr = document.createElement('tr');
      cell(tr, '—');
      cell(tr, '0', 'r');
      body.appendChild(tr);
    }
    keys.forEach(function (k) {
      var tr = document.createElement('tr');
      cell(tr, k);
      cell(tr, String(totals[k]), 'r');
      body.appendChild(tr);
    });
  }

  function renderDevices(devices, now) {
    var body = $('devices');
    clear(body);
    $('no-devices').hidden = devices.length > 0;
    devices.forEach(function (d) {
      var tr = document.createElement('tr');
      cell(tr, d.id);
      cell(tr, d.role);
      cell(tr, d.gates.join(', '));
      cell(tr, d.path);
      cell(tr, d.profile);
      var td = cell(tr, '');
      var span = document.createElement('span');
      pill(span, d.state, DEVICE_CLASS[d.state]);
      td.appendChild(span);
      cell(tr, ago(d.since, now));
      cell(tr, String(d.reopens), 'r');
      cell(tr, d.lastError || '—', 'wrap');
      body.appendChild(tr);
    });
  }

  function onDecisions(batch) {
    if (batch.missed > 0) {
      var note = $('missed');
      note.hidden = false;
      note.textContent = batch.missed + ' decisions came too fast to list (they are counted above).';
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

  function addRows(events, fresh) {
    var body = $('decisions');
    events.forEach(function (e) {
      var tr = document.createElement('tr');
      tr.className = e.verdict + (fresh ? ' fresh' : '');
      cell(tr, clock(e.at));
      var where = e.gate + (e.reader ? ' / ' + e.reader : '');
      cell(tr, where, 'gate').title = where;
      cell(tr, e.kind);
      cell(tr, e.verdict === 'pass' ? 'pass · geç' : 'deny · red', 'verdict');
      cell(tr, e.reason);
      cell(tr, e.source);
      cell(tr, e.elapsedMs.toFixed(1), 'r');
      body.insertBefore(tr, body.firstChild);
    });
    while (body.children.length > MAX_ROWS) body.removeChild(body.lastChild);
    $('no-decisions').hidden = body.children.length > 0;
  }

  function dispatch(name, data) {
    lastMessageAt = Date.now();
    if (name === 'snapshot') onSnapshot(JSON.parse(data));
    else if (name === 'decisions') onDecisions(JSON.parse(data));
  }

  function parseBlock(block) {
    var name = 'message';
    var data = [];
    block.split('\n').forEach(function (line) {
      if (line === '' || line.charAt(0) === ':') return;
      var i = line.indexOf(':');
      var field = i < 0 ? line : line.slice(0, i);
      var value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
    });
    if (data.length > 0) dispatch(name, data.join('\n'));
  }

  async function read(body) {
    var reader = body.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) return;
      lastMessageAt = Date.now();
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
      var end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        var block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        parseBlock(block);
      }
    }
  }

  function showTokenForm(message) {
    $('token-form').hidden = false;
    $('token-error').textContent = message;
    $('token').focus();
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null) return;
    var wait = Math.min(30000, retryMs * Math.pow(2, backoff));
    backoff = Math.min(backoff + 1, 4);
    reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, wait);
  }

  async function connect() {
    if (controller) controller.abort();
    var mine = new AbortController();
    controller = mine;
    setConn('connecting');
    var headers = { Accept: 'text/event-stream' };
    if (token) headers.Authorization = 'Bearer ' + token;
    try {
      var res = await fetch('/v1/live/events', { headers: headers, cache: 'no-store', signal: mine.signal });
      if (res.status === 401) {
        setConn('locked');
        showTokenForm(token ? 'That token was refused · Anahtar reddedildi' : '');
        return;
      }
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
      $('token-form').hidden = true;
      firstBatch = true;
      setConn('live');
      backoff = 0;
      lastMessageAt = Date.now();
      await read(res.body);
    } catch (err) {
      if (mine.signal.aborted && controller !== mine) return;
    }
    if (controller === mine) {
      controller = null;
      setConn('down');
      scheduleReconnect();
    }
  }

  function watch() {
    if (controller && lastMessageAt && Date.now() - lastMessageAt > STALE_AFTER_MS) {
      setConn('stale');
      var c = controller;
      controller = null;
      c.abort();
      scheduleReconnect();
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      token = $('token').value;
      sessionStorage.setItem(TOKEN_KEY, token);
      $('token').value = '';
      connect();
    });
    $('pause').addEventListener('click', function () {
      paused = !paused;
      this.setAttribute('aria-pressed', String(paused));
      this.textContent = paused ? 'Devam · Resume' : 'Duraklat · Pause';
      if (!paused) {
        addRows(held, false);
        held = [];
      }
    });
    setInterval(watch, 2000);
    connect();
  });
})();
`;
