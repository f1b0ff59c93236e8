/**
 * Shares this station's own ministry answers (typed and QR codes the hub does not refresh) with
 * the city, so one lookup serves every station.
 *
 *   status service onAnswer ─> share(code, answer, at)  (sync: queue and return; taps never wait)
 *        queue ── one turn of the event loop ──> one pipeline of XADD hg:<kid>:lookups:<own id> MAXLEN ~ n
 *                                                (signed by this node; the only stream its ACL user may write)
 *   the lease holder relays it (hub/lookup-relay.ts): an answer that makes other stations stricter
 *   goes to every node at once; a RISKLESS is a hint the leader asks the ministry about and
 *   publishes itself, so no station's word ever lets another station's passenger through.
 *
 * Best effort by design: while Redis is away (the connection is not ready) or the queue plus
 * the answers in flight pass `maxQueued` (Redis frozen: replies do not come back), answers are
 * dropped and counted. Another station that misses one asks the ministry itself.
 */
import type { Redis } from 'ioredis';
import type { Answer } from '../../status/types.js';
import { sharedAnswer, type CityWire, type SharedStatus } from '../wire.js';

export interface LookupSharerOptions {
  redis: Redis;
  wire: CityWire;
  /** This node's own lookup stream (keyspace.ts `lookupsOf`). */
  stream: string;
  /** This station's id, written as `src` so it skips its own answers. */
  nodeId: string;
  /** MAXLEN ~ of the lookup stream (city.lookupsMaxLen). */
  maxLen: number;
  /** Answers queued or in flight before new ones are dropped. @default 10000 */
  maxQueued?: number;
}

export interface LookupSharerCounts {
  shared: number;
  dropped: number;
}

export class LookupSharer {
  readonly counts: LookupSharerCounts = { shared: 0, dropped: 0 };
  readonly #o: LookupSharerOptions;
  readonly #maxQueued: number;
  #queue: SharedStatus[] = [];
  #inFlight = 0;
  #scheduled = false;
  #stopped = false;
  #sending = new Set<Promise<void>>();

  constructor(options: LookupSharerOptions) {
    this.#o = options;
    this.#maxQueued = options.maxQueued ?? 10_000;
  }

  /** Queue one answer learned at `at`; never throws, never waits. */
  share(code: string, answer: Answer, at: number): void {
    if (this.#stopped || this.#queue.length + this.#inFlight >= this.#maxQueued) {
      this.counts.dropped++;
      return;
    }
    this.#queue.push({ at, code, answer: sharedAnswer(answer) });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    const items = this.#queue;
    this.#queue = [];
    if (items.length === 0) return;
    const { redis, wire, stream, nodeId, maxLen } = this.#o;
    if (redis.status !== 'ready') {
      this.counts.dropped += items.length;
      return;
    }
    const pipeline = redis.pipeline();
    for (const item of items) pipeline.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...wire.lookupEntry(item, nodeId));
    this.#inFlight += items.length;
    const sent = pipeline
      .exec()
      .then((results) => {
        const failed = results === null ? items.length : results.filter(([err]) => err !== null).length;
        this.counts.dropped += failed;
        this.counts.shared += items.length - failed;
      })
      .catch(() => {
        this.counts.dropped += items.length;
      })
      .finally(() => {
        this.#inFlight -= items.length;
        this.#sending.delete(sent);
      });
    this.#sending.add(sent);
  }

  /** Stop taking answers, send what is queued; settles when all sent has been answered or failed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#flush();
    await Promise.all([...this.#sending]);
  }
}
