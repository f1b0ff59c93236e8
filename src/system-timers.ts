import type { Timers } from './types.js';

/**
 * The process's timers behind the one `Timers` interface (src/types.ts), unref'd: a pending
 * wait never keeps the process alive on its own. Kept apart from types.ts, which holds types only
 * (the live page's browser script is type-checked against it).
 */
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
