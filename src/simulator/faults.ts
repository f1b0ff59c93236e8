/**
 * The simulator's fault knobs: what operators and tests switch on to rehearse a slow, broken
 * or refusing ministry. They apply to ministry paths only, never to the control API.
 */

export interface Faults {
  /** Delay added before every answer, in ms. @default 0 */
  latencyMs: number;
  /** Accept the request and never answer (until the client gives up or the simulator closes). @default false */
  hang: boolean;
  /** Destroy the connection once the request has arrived. @default false */
  reset: boolean;
  /** Answer every request with this HTTP status (400–599) and a problem body. @default null */
  status: number | null;
  /** Answer 429 with `Retry-After` (delay-seconds, or an HTTP-date when `httpDate`). @default null */
  rateLimit: { retryAfterSeconds: number; httpDate?: boolean } | null;
  /** Spoil the answer's body: cut it in half, or replace it with an HTML page. @default null */
  body: 'truncated' | 'garbage' | null;
  /** Answer 401 whatever the credentials. @default false */
  rejectAuth: boolean;
  /**
   * Share of requests (0..1) answered 503, deterministically: with 0.25, exactly every 4th
   * request fails. @default 0
   */
  failRate: number;
}

export function defaultFaults(): Faults {
  return { latencyMs: 0, hang: false, reset: false, status: null, rateLimit: null, body: null, rejectAuth: false, failRate: 0 };
}

function bool(k: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`faults.${k} must be true or false`);
  return v;
}

/** Checks a partial fault setting; throws a TypeError naming the knob and what was expected. */
export function validateFaults(value: unknown): Partial<Faults> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('faults must be an object');
  const out: Partial<Faults> = {};
  for (const [k, v] of Object.entries(value)) {
    switch (k) {
      case 'latencyMs':
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 600_000) {
          throw new TypeError('faults.latencyMs must be a number of ms from 0 to 600000');
        }
        out.latencyMs = v;
        break;
      case 'hang':
      case 'reset':
      case 'rejectAuth':
        out[k] = bool(k, v);
        break;
      case 'status':
        if (v !== null && (!Number.isInteger(v) || (v as number) < 400 || (v as number) > 599)) {
          throw new TypeError('faults.status must be an HTTP status from 400 to 599, or null');
        }
        out.status = v as number | null;
        break;
      case 'rateLimit': {
        if (v === null) {
          out.rateLimit = null;
          break;
        }
        const r = v as { retryAfterSeconds?: unknown; httpDate?: unknown } | undefined;
        if (typeof r !== 'object' || !Number.isInteger(r.retryAfterSeconds) || (r.retryAfterSeconds as number) < 0) {
          throw new TypeError('faults.rateLimit must be {"retryAfterSeconds": <whole seconds ≥ 0>, "httpDate"?: boolean} or null');
        }
        out.rateLimit = { retryAfterSeconds: r.retryAfterSeconds as number, httpDate: r.httpDate === undefined ? false : bool('rateLimit.httpDate', r.httpDate) };
        break;
      }
      case 'body':
        if (v !== null && v !== 'truncated' && v !== 'garbage') throw new TypeError('faults.body must be "truncated", "garbage" or null');
        out.body = v;
        break;
      case 'failRate':
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new TypeError('faults.failRate must be a number from 0 to 1');
        out.failRate = v;
        break;
      default:
        throw new TypeError(`faults.${k} is not a fault knob (expected latencyMs, hang, reset, status, rateLimit, body, rejectAuth, failRate)`);
    }
  }
  return out;
}
