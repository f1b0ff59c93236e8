/**
 * How a vehicle's link to its hub is doing, said once per change. A bus loses its link in every
 * tunnel and depot: a failed poll is normal, and a log line per poll would bury everything else.
 * The fetcher and the uploader each keep one; a change (up → unreachable → revoked …) is told once.
 */

import type { LinkStateName } from './on-board-types.js';

export type { LinkStateName } from './on-board-types.js';

export interface LinkChange {
  state: LinkStateName;
  previous: LinkStateName;
  /** A short reason: an error code (UND_ERR_CONNECT_TIMEOUT, ECONNREFUSED) or an HTTP status. Never a URL's query or a token. */
  detail: string;
}

export class LinkState {
  #state: LinkStateName = 'starting';
  #detail = '';

  constructor(private readonly onChange: (change: LinkChange) => void) {}

  get state(): LinkStateName {
    return this.#state;
  }

  /** Record the outcome of a request; tells onChange only when the state (or, for `refused`, the status) changed. */
  set(state: LinkStateName, detail = ''): void {
    // An unreachable hub fails with one code or another as the modem comes and goes: one change.
    if (state === this.#state && (state !== 'refused' || detail === this.#detail)) return;
    const previous = this.#state;
    this.#state = state;
    this.#detail = detail;
    this.onChange({ state, previous, detail });
  }

  /** The state an HTTP status that is not 2xx puts the link in. */
  static ofStatus(status: number): LinkStateName {
    return status === 401 ? 'unauthorized' : status === 403 ? 'revoked' : 'refused';
  }

  /** A short, safe name for a failed request: undici's or the system's error code. */
  static codeOf(err: unknown): string {
    const e = err as { code?: unknown; name?: unknown };
    return typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'error';
  }
}
