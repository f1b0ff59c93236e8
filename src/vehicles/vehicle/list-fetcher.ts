/**
 * The vehicle's list fetcher: keeps the card list current over a link that comes and goes.
 *
 *   start ─> worker.restore (files on disk) ─> swap in at once: decides offline from the first tap
 *   every pollMs:
 *     GET headUrl?after=<held> (Bearer) ─> worker.head: signature, key id, not replayed ─> planFetch
 *       └─ each file in order: download to partial/ (Range resume) ─> worker.apply ─> swap in
 *
 * Every refusal is counted by reason (`hes_gate_vehicle_list_refused_total`) and told once; the
 * version held stays. Link failures are normal on a bus: the link's state is told on change only
 * (link-state.ts). The main thread does HTTP and swaps a finished state in; the worker does the rest.
 */
import { join } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { systemTimers } from '../../system-timers.js';
import type { Timers } from '../../types.js';
import type { ListHead, RefusalReason } from '../list/types.js';
import type { CardList } from './card-list.js';
import { planFetch } from './fetch-plan.js';
import { downloadFile, prunePartials } from './file-download.js';
import { authFor, discard } from './hub-http.js';
import { LinkState, type LinkChange } from './link-state.js';
import type { ListWorkerAnswer } from './list-worker.js';
import type { ListWorkerClient } from './list-worker-client.js';
import type { ListFetcherReport } from './on-board-types.js';
import type { SignedClock } from './signed-clock.js';

/** The largest head accepted, bytes: a head names a snapshot and at most a few hundred deltas. */
const MAX_HEAD_BYTES = 1024 * 1024;

/** headUrl with `after=<version>` set (any other query it has is kept). */
function withAfter(headUrl: string, version: number): string {
  const u = new URL(headUrl);
  u.searchParams.set('after', String(version));
  return u.toString();
}

export const REFUSAL_REASONS: readonly RefusalReason[] = ['signature', 'tampered', 'replayed', 'mismatch', 'malformed'];

export interface ListFetcherOptions {
  headUrl: string;
  /** Base of the files' URLs, ending in `/`. */
  filesUrl: string;
  token: () => string;
  /** `<dataDir>/vehicle-list` (the worker's directory). */
  dir: string;
  worker: ListWorkerClient;
  list: CardList;
  clock: SignedClock;
  pollMs: number;
  dispatcher: Dispatcher;
  timers?: Timers;
  onLink?: (change: LinkChange) => void;
  onRefused?: (reason: RefusalReason, message: string) => void;
  /** A new version is held (from disk at start, or fetched). */
  onVersion?: (v: { version: number; issuedAt: number; count: number; from: 'disk' | 'hub' }) => void;
  /** A poll ended (tests wait on it). */
  onPoll?: () => void;
}


export class ListFetcher {
  readonly #o: ListFetcherOptions;
  readonly #timers: Timers;
  readonly #link: LinkState;
  readonly #hubOrigin: string;
  readonly #refused = new Map<RefusalReason, number>(REFUSAL_REASONS.map((r) => [r, 0]));
  #bytes = 0;
  #count: number | null = null;
  #timer: unknown;
  #stopped = false;
  #running: Promise<void> | null = null;
  /** Stopping ends a download waiting on a silent link at once, not at its body timeout. */
  readonly #abort = new AbortController();

  constructor(o: ListFetcherOptions) {
    this.#o = o;
    this.#timers = o.timers ?? systemTimers;
    this.#link = new LinkState((c) => o.onLink?.(c));
    this.#hubOrigin = new URL(o.headUrl).origin;
  }

  /** Take the list kept on disk (resolves once it is swapped in, or there is none), then poll. */
  async start(): Promise<void> {
    const a = await this.#o.worker.restore();
    this.#take(a, 'disk');
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timers.clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#running;
  }

  report(): ListFetcherReport {
    const held = this.#o.list.held;
    return { version: held?.version ?? null, issuedAt: held?.issuedAt ?? null, count: this.#count, refused: this.#refused, bytesFetched: this.#bytes, link: this.#link.state };
  }

  /** One poll now (or the one running). Never rejects. */
  poll(): Promise<void> {
    this.#running ??= this.#poll()
      .catch((err: unknown) => this.#link.set('refused', `worker: ${(err as Error).message}`))
      .finally(() => {
        this.#running = null;
        this.#o.onPoll?.();
      });
    return this.#running;
  }

  /**
   * A poll that starts now, or right after the one running: that one may have asked for the head
   * before the version a notice tells of was published. Never rejects.
   */
  pollFresh(): Promise<void> {
    const running = this.#running;
    return running === null ? this.poll() : running.then(() => this.poll());
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#timers.setTimeout(() => void this.poll().then(() => this.#schedule(this.#o.pollMs)), ms);
  }

  #refuse(reason: RefusalReason, message: string): void {
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
    this.#o.onRefused?.(reason, message);
  }

  /** Whatever the worker answered: refusals counted, the newest signed time seen, a new state swapped in. */
  #take(a: ListWorkerAnswer, from: 'disk' | 'hub'): boolean {
    this.#o.clock.saw(a.newest.issuedAt);
    if (!a.ok) {
      this.#refuse(a.reason, a.message);
      return false;
    }
    for (const r of a.refusals ?? []) this.#refuse(r.reason, r.message);
    if (a.state !== undefined && a.held !== null) {
      this.#o.list.swap({ version: a.held.version, issuedAt: a.held.issuedAt, horizonMs: a.held.horizonMs, state: a.state });
      this.#o.clock.saw(a.held.issuedAt);
      this.#count = a.held.count;
      this.#o.onVersion?.({ version: a.held.version, issuedAt: a.held.issuedAt, count: a.held.count, from });
    }
    return true;
  }

  async #getHead(): Promise<string | null> {
    const o = this.#o;
    try {
      // `after`: the hub names only the deltas that lead on from the version held (a day of delta
      // names would otherwise ride on every poll).
      const held = o.list.held?.version;
      const url = held === undefined ? o.headUrl : withAfter(o.headUrl, held);
      const res = await request(url, { dispatcher: o.dispatcher, signal: this.#abort.signal, headers: { accept: 'application/json', ...authFor(o.headUrl, this.#hubOrigin, o.token()) } });
      if (res.statusCode !== 200) {
        await discard(res.body);
        this.#link.set(LinkState.ofStatus(res.statusCode), String(res.statusCode));
        return null;
      }
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        n += chunk.length;
        this.#bytes += chunk.length;
        if (n > MAX_HEAD_BYTES) {
          res.body.destroy();
          this.#refuse('malformed', `the head is over ${MAX_HEAD_BYTES} bytes`);
          return null;
        }
        chunks.push(chunk);
      }
      return Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      if (!this.#stopped) this.#link.set('unreachable', LinkState.codeOf(err));
      return null;
    }
  }

  async #poll(): Promise<void> {
    const o = this.#o;
    const text = await this.#getHead();
    if (text === null) return;
    this.#link.set('up');
    const answer = await o.worker.head(text);
    if (!this.#take(answer, 'hub') || !answer.ok) return;
    const head = answer.head as ListHead;
    const plan = planFetch(head, o.list.held?.version ?? null);
    await prunePartials(join(o.dir, 'partial'), new Set(plan.kind === 'current' ? [] : plan.files.map((f) => f.name)));
    if (plan.kind === 'current') return;
    for (const ref of plan.files) {
      if (this.#stopped) return;
      const url = new URL(ref.name, o.filesUrl).href;
      const path = join(o.dir, 'partial', ref.name);
      const got = await downloadFile({ url, path, bytes: ref.bytes, headers: authFor(url, this.#hubOrigin, o.token()), dispatcher: o.dispatcher, signal: this.#abort.signal, onBytes: (n) => (this.#bytes += n) });
      if (!got.ok) {
        if (this.#stopped) return;
        if ('tampered' in got) this.#refuse('tampered', got.tampered);
        else this.#link.set(got.link, got.detail);
        return;
      }
      if (!this.#take(await o.worker.apply(path, ref), 'hub')) return;
    }
  }
}
