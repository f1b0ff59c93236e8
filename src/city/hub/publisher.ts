/**
 * The leader's refresher sink: each rotation step is held locally and published to the city
 * as one `statuses` entry, through a script that checks the fencing token first.
 *
 *   refresher step ─> ingestMany(results, at, checked)
 *        ├─ compare with what the local replica holds ─> answers: new or changed (+ codes outside `checked`)
 *        ├─ local.ingestMany (this hub decides from them too)
 *        └─ queue (bounded) ─> in order, one at a time ─> PUBLISH script:
 *               GET hg:lease:token == mine ? HSET statuses (every answered code) + XADD changes (f = token)
 *                                          : error FENCED ─> HG_CITY_FENCED, counted, onFenced (stand down)
 *
 * While Redis is away the batches wait in the queue (counted) and go in order once it answers
 * again; when the queue is full the oldest batch is dropped (counted) and its codes are listed
 * as changed the next time a step asks them, so no change is lost for good. Nothing here logs
 * a code: events carry counts.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { HesGateError } from '../../errors.js';
import { answerOf } from '../../status/ministry-lookup.js';
import type { CheckedCodes } from '../../status/types.js';
import { systemTimers } from '../../system-timers.js';
import type { MinistryLookup, StatusRecord, Timers } from '../../types.js';
import type { CityKey } from '../city-key.js';
import { cityKeyspace, type CityKeyspace } from '../keyspace.js';
import type { StatusPublisher } from '../types.js';
import { CityWire, sharedAnswer, type SharedAnswer, type SharedStatus, type StatusChanges } from '../wire.js';
import { failureKind } from './redis-error.js';
import { forEachInSlices } from './slices.js';

/** What the publisher needs of the local status service (status-service.ts). */
export interface LocalStatuses {
  ingestMany(results: Iterable<[string, MinistryLookup | HesGateError]>, at: number, checked?: CheckedCodes): void;
  lastKnown(code: string, now: number): StatusRecord | undefined;
}

/** Counters shared by the publishers of one hub (one per lease held). */
export interface PublishStats {
  published: number;
  dropped: number;
  fenced: number;
}

export interface PublisherOptions {
  redis: Redis;
  key: CityKey;
  nodeId: string;
  /** This hub's signing key: every entry it writes is signed. */
  nodeKey: import('../identity/node-key.js').NodeKey;
  /** The fencing token this publisher writes under (the lease's). */
  token: number;
  changesMaxLen: number;
  local: LocalStatuses;
  /** Batches kept while Redis is away; the oldest go beyond it. @default 1000 */
  maxQueued?: number;
  /** Told once when Redis refuses a write for the token: this hub is no longer the holder. */
  onFenced?: () => void;
  stats?: PublishStats;
  /** @default unref'd global timers */
  timer?: Timers;
}

export interface PublisherEvents {
  /** One batch reached the stream. */
  published: [{ id: string; answers: number; codes: number }];
  fenced: [HesGateError];
  /** A send failed (Redis away); the batch stays queued. */
  retrying: [{ queued: number; reason: string }];
}

interface Batch {
  changes: StatusChanges;
  /** Every answered code of the step, for the snapshot hash. */
  held: SharedStatus[];
}

const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED the refresher lease moved on') end
local n = tonumber(ARGV[3])
local entry = {}
for i = 1, n do entry[i] = ARGV[3 + i] end
local i = 4 + n
while i <= #ARGV do
  local j = math.min(i + 999, #ARGV)
  redis.call('HSET', KEYS[2], unpack(ARGV, i, j))
  i = j + 1
end
return redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))`;

const inRange = (code: string, c: CheckedCodes | undefined): boolean =>
  c !== undefined && (c.after === null || code > c.after) && (c.through === null || code <= c.through);

/** Expiries further away than this decide nothing differently (the local cache even clamps them). */
const FAR_MS = 20 * 365 * 86_400_000;

/** Whether the expiry the local cache holds (whole seconds) is the one just answered. */
function sameExpiry(held: number, answered: number, at: number): boolean {
  return held === Math.floor(answered / 1000) * 1000 || (held - at > FAR_MS && answered - at > FAR_MS);
}

export class LeaderPublisher extends EventEmitter<PublisherEvents> implements StatusPublisher {
  readonly #o: PublisherOptions;
  readonly #keys: CityKeyspace;
  readonly #wire: CityWire;
  readonly #timer: Timers;
  readonly #maxQueued: number;
  readonly #stats: PublishStats;
  readonly #queue: Batch[] = [];
  /** Codes of dropped batches: listed as changed the next time a step answers them. */
  readonly #dirty = new Set<string>();
  /** Codes whose last answer was not a status (lastKnown cannot say), and which kind. */
  readonly #notStatus = new Map<string, SharedAnswer['kind']>();
  #pumping = false;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(o: PublisherOptions) {
    super();
    this.#o = o;
    this.#keys = cityKeyspace(o.key.kid);
    this.#wire = new CityWire(o.key, this.#keys, { nodeId: o.nodeId, key: o.nodeKey });
    this.#timer = o.timer ?? systemTimers;
    this.#maxQueued = o.maxQueued ?? 1000;
    this.#stats = o.stats ?? { published: 0, dropped: 0, fenced: 0 };
  }

  /** Batches waiting for Redis (including one being sent). */
  get queued(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The refresher's sink: hold the step locally, publish what the city must learn. */
  ingestMany(results: Iterable<[string, MinistryLookup | HesGateError]>, at: number, checked?: CheckedCodes): void {
    const all = [...results];
    const held: SharedStatus[] = [];
    const answers: Array<[string, SharedAnswer]> = [];
    const failed: string[] = [];
    for (const [code, result] of all) {
      const a = answerOf(result);
      if (a === undefined) {
        failed.push(code);
        continue;
      }
      const answer = sharedAnswer(a);
      held.push({ at, code, answer });
      // Codes outside the rotation's range (recent taps) are listed: `checked` does not cover them.
      if (this.#changed(code, answer, at) || !inRange(code, checked)) answers.push([code, answer]);
    }
    this.#o.local.ingestMany(all, at, checked);
    const changes: StatusChanges = { at, answers };
    if (checked !== undefined) changes.checked = { after: checked.after, through: checked.through };
    if (failed.length > 0) changes.failed = failed;
    this.#enqueue({ changes, held });
  }

  /** Publish changes as they are (the StatusPublisher contract); the listed answers go to the snapshot too. */
  publish(changes: StatusChanges): void {
    this.#enqueue({ changes, held: changes.answers.map(([code, answer]) => ({ at: changes.at, code, answer })) });
  }

  /** Stop: queued batches are discarded (they are not this hub's to write any more). */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#wake?.();
  }

  #changed(code: string, answer: SharedAnswer, at: number): boolean {
    const forced = this.#dirty.delete(code);
    const prev = this.#o.local.lastKnown(code, at);
    let changed: boolean;
    const isStatus = answer.kind === 'status' && (answer.status === 'RISKY' || answer.expiresAt > at);
    if (answer.kind === 'status' && isStatus) {
      this.#notStatus.delete(code);
      changed = prev === undefined || prev.status !== answer.status || !sameExpiry(prev.expiresAt, answer.expiresAt, at);
    } else {
      changed = prev !== undefined || this.#notStatus.get(code) !== answer.kind;
      this.#notStatus.set(code, answer.kind);
    }
    return changed || forced;
  }

  #enqueue(batch: Batch): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#maxQueued) {
      // Drop the oldest that is not being sent right now.
      const dropped = this.#queue.splice(this.#pumping ? 1 : 0, 1)[0];
      for (const s of dropped?.held ?? []) this.#dirty.add(s.code);
      this.#stats.dropped++;
    }
    this.#queue.push(batch);
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    let failures = 0;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const batch = this.#queue[0]!;
        try {
          const id = await this.#send(batch);
          if (this.#queue[0] === batch) this.#queue.shift();
          failures = 0;
          this.#stats.published++;
          this.emit('published', { id, answers: batch.changes.answers.length, codes: batch.held.length });
        } catch (err) {
          if (err instanceof HesGateError) {
            this.#stats.fenced++;
            this.close();
            this.emit('fenced', err);
            this.#o.onFenced?.();
            return;
          }
          failures++;
          this.emit('retrying', { queued: this.#queue.length, reason: failureKind(err) });
          await this.#retryWait(Math.min(2000, 100 * 2 ** Math.min(failures - 1, 5)));
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Until Redis is ready again, the back-off ends, or close(). */
  #retryWait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const redis = this.#o.redis;
      const done = (): void => {
        this.#timer.clearTimeout(handle);
        redis.off('ready', done);
        this.#wake = undefined;
        resolve();
      };
      const handle = this.#timer.setTimeout(done, ms);
      redis.once('ready', done);
      this.#wake = done;
    });
  }

  async #send(batch: Batch): Promise<string> {
    const { redis, nodeId, token, changesMaxLen } = this.#o;
    const entry = this.#wire.statusesEntry(batch.changes, nodeId, token);
    const pairs: string[] = [];
    await forEachInSlices(batch.held, (s) => pairs.push(...this.#wire.statusField(s)));
    try {
      return (await redis.eval(PUBLISH, 3, this.#keys.leaseToken, this.#keys.statuses, this.#keys.changes, String(token), String(changesMaxLen), String(entry.length), ...entry, ...pairs)) as string;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('FENCED')) {
        throw new HesGateError('HG_CITY_FENCED', `a status write under fencing token ${token} was refused: another hub holds the refresher lease`, { cause: err });
      }
      throw err;
    }
  }
}
