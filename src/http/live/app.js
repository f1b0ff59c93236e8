/**
 * The operators' live page (served as /live/app.js; a module, so deferred and strict). It wires
 * the page's parts, each a module beside this one:
 *
 *   transport.js ── snapshot ──> render-snapshot.js (with render-minutes.js, render-devices.js)
 *        │      └── decisions ─> render-decisions.js (pause / resume)
 *        ├─ 401 ──> token-form.js ── token ──> reconnect
 *        └─ open ─> /v1/live/history ──> render-history.js (then every HISTORY_EVERY_MS)
 *
 * Every value from the stream reaches the DOM through textContent (dom.js). Type-checked by tsc
 * (tsconfig.json beside this file) against the wire types the server sends, and linted by eslint.
 *
 * @typedef {import('../../ops/live-wire.js').LiveSnapshot} LiveSnapshot
 * @typedef {import('../../ops/live-wire.js').DecisionBatch} DecisionBatch
 * @typedef {import('../../ops/live-wire.js').LiveHistory} LiveHistory
 * @typedef {import('./transport.js').ConnState} ConnState
 */
import { $ } from './dom.js';
import { decisionsTable } from './render-decisions.js';
import { renderHistory } from './render-history.js';
import { renderSnapshot } from './render-snapshot.js';
import { hideTokenForm, onTokenSubmitted, showTokenForm, storedToken } from './token-form.js';
import { openStream } from './transport.js';

/** The journal's history changes slowly; the server caches it for a few seconds anyway. */
const HISTORY_EVERY_MS = 60000;

/** @type {Record<ConnState, string>} */
const CONN = {
  connecting: 'Bağlanıyor · Connecting…',
  live: 'Canlı · Live',
  stale: 'Yanıt yok · No updates',
  down: 'Bağlantı koptu · Reconnecting…',
  locked: 'Anahtar gerekli · Token required',
};

let token = storedToken();
const decisions = decisionsTable();

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
    renderHistory(/** @type {LiveHistory} */ (await res.json()));
  } catch {
    // The stream shows the connection's state; the next period tries again.
  }
}

const stream = openStream({
  token: () => token,
  onEvent(name, data) {
    if (name === 'snapshot') renderSnapshot(/** @type {LiveSnapshot} */ (JSON.parse(data)));
    else if (name === 'decisions') decisions.add(/** @type {DecisionBatch} */ (JSON.parse(data)));
  },
  onState(s) {
    const el = $('conn');
    el.className = `conn conn-${s}`;
    el.textContent = CONN[s];
  },
  onOpen() {
    hideTokenForm();
    decisions.restart();
    void loadHistory();
  },
  onRefused() {
    showTokenForm(token ? 'That token was refused · Anahtar reddedildi' : '');
  },
});

onTokenSubmitted((given) => {
  token = given;
  stream.reconnect();
});
$('pause').addEventListener('click', () => {
  const paused = decisions.togglePause();
  const button = $('pause');
  button.setAttribute('aria-pressed', String(paused));
  button.textContent = paused ? 'Devam · Resume' : 'Duraklat · Pause';
});
