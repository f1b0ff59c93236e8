/**
 * The live page's DOM and formatting helpers. Values from the stream reach the DOM through
 * textContent only (a gate id is whatever a validator sent).
 */

/**
 * The element with this id; the page is static, so a missing one is a bug worth an exception.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} [type] the element's class, when more than an HTMLElement is needed
 * @returns {T}
 */
export function $(id, type) {
  const el = document.getElementById(id);
  if (el === null || !(el instanceof (type ?? HTMLElement))) throw new Error(`#${id} is missing from the page`);
  return /** @type {T} */ (el);
}

/**
 * @param {HTMLElement} el
 * @param {string | number | null | undefined} value shown as a dash when absent
 */
export function text(el, value) {
  el.textContent = value === null || value === undefined || value === '' ? '—' : String(value);
}

/**
 * @param {HTMLElement} el
 * @param {string} value
 * @param {string | undefined} cls
 */
export function pill(el, value, cls) {
  el.textContent = value;
  el.className = `pill ${cls ?? ''}`;
}

/** @param {number} n */
const pad = (n) => (n < 10 ? `0${n}` : String(n));

/** @param {number} ms */
export function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** @param {number} ms */
export function hhmm(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * @param {number} ms
 * @param {number} now
 */
export function ago(ms, now) {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/**
 * @param {HTMLTableRowElement} tr
 * @param {string} value
 * @param {string} [cls]
 */
export function cell(tr, value, cls) {
  const td = document.createElement('td');
  td.textContent = value;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

/** @param {HTMLElement} el */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** @param {number} ms */
export const msCell = (ms) => ms.toFixed(1);

/**
 * `table[key]` for a key that came from the stream, or undefined when the table does not hold it
 * itself (`constructor` is not a label).
 * @param {Record<string, string | undefined>} table
 * @param {string} key
 */
export function own(table, key) {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
