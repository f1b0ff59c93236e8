/** The card store's readiness check: open, with how many bindings it holds. */
import type { ReadinessCheck } from '../types.js';

/** `countBindings` is the store's throttled count (a full count is tens of ms of SQLite). */
export function storeReadiness(countBindings: () => number): ReadinessCheck {
  return { name: 'store', check: () => ({ ok: true, detail: `${countBindings()} card bindings` }) };
}
