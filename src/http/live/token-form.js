/**
 * The operator token: asked for in the page's form when the stream answers 401, kept in
 * sessionStorage for this tab only, and sent in an Authorization header, never in a URL.
 */
import { $ } from './dom.js';

const TOKEN_KEY = 'hes-gate-live-token';

/** The token this tab was given, or '' before one is. */
export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** @param {string} message why the form is shown ('' the first time) */
export function showTokenForm(message) {
  $('token-form').hidden = false;
  $('token-error').textContent = message;
  $('token').focus();
}

export function hideTokenForm() {
  $('token-form').hidden = true;
}

/** @param {(token: string) => void} use called with each token the operator submits (already stored) */
export function onTokenSubmitted(use) {
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('token', HTMLInputElement);
    const token = input.value;
    sessionStorage.setItem(TOKEN_KEY, token);
    input.value = '';
    use(token);
  });
}
