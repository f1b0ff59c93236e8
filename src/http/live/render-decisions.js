/**
 * The live page's table of the latest decisions, newest on top, at most MAX_ROWS. The first
 * batch of each connection is the feed's history and replaces the table; later batches are
 * added on top, or held while the operator has paused the table.
 *
 * @typedef {import('../../ops/live-wire.js').LiveDecision} LiveDecision
 * @typedef {import('../../ops/live-wire.js').DecisionBatch} DecisionBatch
 */
import { $, cell, clear, clock } from './dom.js';

const MAX_ROWS = 100;

export function decisionsTable() {
  let paused = false;
  /** @type {LiveDecision[]} */
  let held = [];
  /** The first batch of a connection is the feed's history: it replaces the table rather than adding to it. */
  let firstBatch = true;

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
      cell(tr, e.verdict === 'pass' ? 'pass · geç' : 'deny · red', 'verdict');
      cell(tr, e.reason);
      cell(tr, e.source);
      cell(tr, e.elapsedMs.toFixed(1), 'r');
      body.insertBefore(tr, body.firstChild);
    }
    while (body.children.length > MAX_ROWS && body.lastChild) body.removeChild(body.lastChild);
    $('no-decisions').hidden = body.children.length > 0;
  }

  return {
    /** A new connection: its first batch replaces the table. */
    restart() {
      firstBatch = true;
    },
    /** @param {DecisionBatch} batch */
    add(batch) {
      if (batch.missed > 0) {
        const note = $('missed');
        note.hidden = false;
        note.textContent = `${batch.missed} decisions came too fast to list (they are counted above).`;
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
    },
    /** Pauses or resumes the table; on resume the held rows go on top. Returns whether paused now. */
    togglePause() {
      paused = !paused;
      if (!paused) {
        addRows(held, false);
        held = [];
      }
      return paused;
    },
  };
}
