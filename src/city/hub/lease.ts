/**
 * The refresher lease: at most one hub refreshes the city's bound codes at a time.
 *
 *   standby ──every leaseMs/3 (sooner when the holder's TTL is about to end)──> acquire script:
 *       hg:lease absent? token = max(INCR hg:lease:token, floor + 1); SET hg:lease <node>:<token> PX leaseMs
 *       ─> the token on disk (token-floor.ts) ─> holding
 *   holding ──every leaseMs/3──> renew script: still <node>:<token> and the token still mine? PEXPIRE
 *       ├─ not ours any more ─────────────────────────────> lost 'expired'   ┐
 *       ├─ the fencing token moved on ────────────────────> lost 'fenced'    ├─> standby
 *       └─ no renewal succeeded for leaseMs − safety margin > lost 'expired' | 'unreachable'
 *
 * The token is incremented only by a hub that finds the lease free (both in one script), so a
 * standby asking never fences a live holder. The holder does not trust its own clock beyond
 * the lease: it counts from when its last successful renewal was *sent* (Redis started the TTL
 * later than that) on a monotonic clock, and stops acting a safety margin before Redis could
 * let the lease go. A holder frozen past that (SIGSTOP, a long pause) wakes up lost, and a write
 * it had in flight is refused by the fencing token (publisher.ts). The floor is the highest token
 * this hub held or saw: a Redis that lost its counter never hands out a token twice.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { systemTimers } from '../../system-timers.js';
import type { Timers } from '../../types.js';
import type { CityKeyspace } from '../keyspace.js';
import type { LeaseEvents } from '../types.js';
import { MemoryTokenFloor, type TokenFloor } from './token-floor.js';

export interface LeaseOptions {
  redis: Redis;
  keys: Pick<CityKeyspace, 'lease' | 'leaseToken'>;
  nodeId: string;
  /** TTL of the lease in Redis (city.leaseMs). */
  leaseMs: number;
  /** The holder stops acting this long before its lease could lapse. @default max(leaseMs / 5, 200) ms */
  safetyMarginMs?: number;
  /** Monotonic milliseconds (never the wall clock: it may jump). @default performance.now */
  now?: () => number;
  /** @default unref'd global timers */
  timer?: Timers;
  /** The highest token this hub held or saw, kept across restarts. @default in memory */
  floor?: TokenFloor;
}

export type LostReason = LeaseEvents['lost'][0]['reason'];

const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur, redis.call('PTTL', KEYS[1])} end
local t = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if t <= floor then
  t = floor + 1
  redis.call('SET', KEYS[2], t)
end
local v = ARGV[1] .. ':' .. t
redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
return {t, v, tonumber(ARGV[2])}`;

const RENEW = `
local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return {0, cur or ''} end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {-1, cur} end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, cur}`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The node id in a lease value `<node>:<token>`. */
export function holderOf(value: string): string | null {
  const i = value.lastIndexOf(':');
  return i <= 0 ? null : value.slice(0, i);
}

export class Lease extends EventEmitter<LeaseEvents> {
  readonly #o: LeaseOptions;
  readonly #now: () => number;
  readonly #timer: Timers;
  readonly #marginMs: number;
  readonly #floor: TokenFloor;
  #running = false;
  #token: number | null = null;
  #holder: string | null = null;
  /** Monotonic time after which this holder must not act (its last renewal's send + lease − margin). */
  #actUntil = 0;
  #step: unknown;
  #deadline: unknown;
  /** Bumped whenever the state changes, so a late reply of an older request is ignored. */
  #generation = 0;
  #lastError: unknown;

  constructor(o: LeaseOptions) {
    super();
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
    this.#timer = o.timer ?? systemTimers;
    this.#marginMs = o.safetyMarginMs ?? Math.max(o.leaseMs / 5, 200);
    this.#floor = o.floor ?? new MemoryTokenFloor();
    if (!(this.#marginMs < o.leaseMs / 2)) throw new TypeError('the lease safety margin must be under half the lease');
  }

  get holding(): boolean {
    return this.#token !== null;
  }

  /** The fencing token while holding, null otherwise. */
  get token(): number | null {
    return this.#token;
  }

  /** Node id of the holder as Redis last said (this node while holding), null when none or unknown. */
  get holder(): string | null {
    return this.#holder;
  }

  /** Whether this holder may still act: holding, and within its lease by its own conservative count. */
  valid(): boolean {
    return this.#token !== null && this.#now() < this.#actUntil;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0, () => this.#acquire());
  }

  /** Stop competing; a holder lets the lease go at once (`lost` with `released`) so a standby takes over. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#clear();
    const token = this.#token;
    if (token === null) return;
    this.#lose('released');
    try {
      await this.#o.redis.eval(RELEASE, 1, this.#o.keys.lease, `${this.#o.nodeId}:${token}`);
    } catch {
      // Unreachable: the lease lapses by itself within leaseMs.
    }
  }

  /** A write was refused by the fencing token: this node is no longer the holder, whatever it believed. */
  standDown(reason: LostReason): void {
    if (this.#token === null) return;
    this.#lose(reason);
  }

  #clear(): void {
    this.#generation++;
    if (this.#step !== undefined) this.#timer.clearTimeout(this.#step);
    if (this.#deadline !== undefined) this.#timer.clearTimeout(this.#deadline);
    this.#step = undefined;
    this.#deadline = undefined;
  }

  #schedule(ms: number, fn: () => Promise<void>): void {
    if (!this.#running) return;
    if (this.#step !== undefined) this.#timer.clearTimeout(this.#step);
    this.#step = this.#timer.setTimeout(() => {
      this.#step = undefined;
      void fn();
    }, Math.max(0, Math.ceil(ms)));
  }

  #lose(reason: LostReason): void {
    const token = this.#token;
    if (token === null) return;
    this.#clear();
    this.#token = null;
    this.#actUntil = 0;
    if (this.#holder === this.#o.nodeId) this.#holder = null;
    this.emit('lost', { token, reason });
    this.#schedule(this.#o.leaseMs / 3, () => this.#acquire());
  }

  /** Stop acting at `#actUntil` unless a renewal moves it first. */
  #armDeadline(): void {
    if (this.#deadline !== undefined) this.#timer.clearTimeout(this.#deadline);
    const generation = this.#generation;
    this.#deadline = this.#timer.setTimeout(() => {
      this.#deadline = undefined;
      if (generation !== this.#generation || this.#token === null) return;
      if (this.#now() < this.#actUntil) this.#armDeadline();
      else this.#lose(this.#lastError === undefined ? 'expired' : 'unreachable');
    }, Math.max(0, Math.ceil(this.#actUntil - this.#now())));
  }

  async #acquire(): Promise<void> {
    const { redis, keys, nodeId, leaseMs } = this.#o;
    const generation = this.#generation;
    const sentAt = this.#now();
    let reply: [number, string, number];
    try {
      const floor = await this.#floor.read();
      reply = (await redis.eval(ACQUIRE, 2, keys.lease, keys.leaseToken, nodeId, String(leaseMs), String(floor))) as [number, string, number];
    } catch {
      if (generation === this.#generation) this.#schedule(leaseMs / 3, () => this.#acquire());
      return;
    }
    if (generation !== this.#generation || !this.#running) return;
    const [token, value, pttl] = reply;
    this.#holder = holderOf(value);
    if (token === 0) {
      // The holder's token raises this hub's floor: should Redis lose its counter, no token repeats.
      const seen = Number(value.slice(value.lastIndexOf(':') + 1));
      if (Number.isSafeInteger(seen)) this.#floor.raise(seen).catch(() => undefined);
      // Someone holds it: look again at leaseMs/3, or just after its TTL ends if that is sooner.
      this.#schedule(pttl >= 0 ? Math.min(leaseMs / 3, pttl + 1) : leaseMs / 3, () => this.#acquire());
      return;
    }
    try {
      // Not one write under this token before it is on disk.
      await this.#floor.raise(token);
    } catch {
      if (generation === this.#generation && this.#running) {
        await redis.eval(RELEASE, 1, keys.lease, value).catch(() => undefined);
        this.#schedule(leaseMs / 3, () => this.#acquire());
      }
      return;
    }
    if (generation !== this.#generation || !this.#running) return;
    this.#token = token;
    this.#lastError = undefined;
    this.#actUntil = sentAt + leaseMs - this.#marginMs;
    this.#armDeadline();
    this.#schedule(leaseMs / 3, () => this.#renew());
    this.emit('acquired', { token });
  }

  async #renew(): Promise<void> {
    const { redis, keys, nodeId, leaseMs } = this.#o;
    const token = this.#token;
    if (token === null) return;
    const generation = this.#generation;
    const sentAt = this.#now();
    let reply: [number, string];
    try {
      reply = (await redis.eval(RENEW, 2, keys.lease, keys.leaseToken, `${nodeId}:${token}`, String(token), String(leaseMs))) as [number, string];
    } catch (err) {
      if (generation !== this.#generation) return;
      // Try again soon; the deadline decides when this holder gives up.
      this.#lastError = err;
      this.#schedule(Math.min(leaseMs / 10, 500), () => this.#renew());
      return;
    }
    if (generation !== this.#generation || this.#token !== token) return;
    const [ok, value] = reply;
    if (ok === 1) {
      this.#lastError = undefined;
      this.#holder = nodeId;
      this.#actUntil = Math.max(this.#actUntil, sentAt + leaseMs - this.#marginMs);
      this.#armDeadline();
      this.#schedule(leaseMs / 3, () => this.#renew());
      return;
    }
    this.#holder = value === '' ? null : holderOf(value);
    this.#lose(ok === -1 ? 'fenced' : 'expired');
  }
}
