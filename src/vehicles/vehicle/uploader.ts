/**
 * Store and forward: the vehicle's decision journal goes to its hub when the link is up.
 *
 *   every uploadEveryMs ─> journal.query(after cursor, ≤ 1000) ─> POST uploadUrl ─ 2xx ─> cursor := page.last (on disk)
 *                                                                               └ else ─> stop; the same batch next round
 *
 * The journal's records hold no card id, no code, no QR content (journal/types.ts); the body adds
 * the list version and its signed time, and the vehicle's own clock, so the hub sees each
 * vehicle's list age and clock skew. The cursor moves only after a 2xx: a batch is sent again
 * after a cut rather than lost (the hub keys records by decisionId). A round carries at most
 * `maxBatches` batches, so a vehicle back from a week offline does not hold the link for long.
 */
import { request, type Dispatcher } from 'undici';
import { systemTimers } from '../../system-timers.js';
import type { Clock, Timers } from '../../types.js';
import type { JournalBacklog, JournalEntry, JournalPage, JournalQuery } from '../../journal/types.js';
import { authFor, discard } from './hub-http.js';
import { LinkState, type LinkChange } from './link-state.js';
import type { UploaderReport } from './on-board-types.js';
import type { UploadCursor } from './upload-cursor.js';

/** Most records in one upload (the hub refuses more). */
export const UPLOAD_BATCH = 1000;

export interface UploadBody {
  listVersion: number | null;
  listIssuedAt: number | null;
  /** The vehicle's own clock when sending (not the signed clock): the hub compares it with its own. */
  clockAt: number;
  entries: JournalEntry[];
  counters: Record<string, number>;
}

export interface UploaderOptions {
  url: string;
  /** The hub's origin: the token is sent only there. */
  hubOrigin: string;
  token: () => string;
  journal: { query(q: JournalQuery): Promise<JournalPage>; backlog(after: number): Promise<JournalBacklog> };
  cursor: UploadCursor;
  /** The list held now: its version and signed time; null before any. */
  list: () => { version: number; issuedAt: number } | null;
  /** On-board counters sent along (refusals, bytes fetched, journal drops); names in lower case, digits and `_`. */
  counters: () => Record<string, number>;
  /** The vehicle's own clock. */
  clock: Clock;
  everyMs: number;
  dispatcher: Dispatcher;
  /** @default UPLOAD_BATCH */
  batchSize?: number;
  /** @default 10 */
  maxBatches?: number;
  timers?: Timers;
  onLink?: (change: LinkChange) => void;
  /** The journal started again under the cursor (emptied by retention, or replaced): uploading restarts from its beginning. */
  onRestart?: (cursor: number, newest: number) => void;
  /** A round ended (tests wait on it). */
  onRound?: (r: { sent: number; pending: number }) => void;
}


export class Uploader {
  readonly #o: UploaderOptions;
  readonly #timers: Timers;
  readonly #link: LinkState;
  #timer: unknown;
  #stopped = false;
  #running: Promise<void> | null = null;
  #pending = 0;
  #uploaded = 0;
  #lastUploadAt: number | null = null;

  constructor(o: UploaderOptions) {
    this.#o = o;
    this.#timers = o.timers ?? systemTimers;
    this.#link = new LinkState((c) => o.onLink?.(c));
  }

  start(): void {
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timers.clearTimeout(this.#timer);
    await this.#running;
  }

  report(): UploaderReport {
    return { pending: this.#pending, uploaded: this.#uploaded, lastUploadAt: this.#lastUploadAt };
  }

  /** One round now (or the one already running). Never rejects: a failure is the link's state. */
  round(): Promise<void> {
    this.#running ??= this.#round().finally(() => (this.#running = null));
    return this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#timers.setTimeout(() => void this.round().then(() => this.#schedule(this.#o.everyMs)), ms);
  }

  async #round(): Promise<void> {
    const o = this.#o;
    let sent = 0;
    try {
      let cursor = await o.cursor.read();
      let backlog = await o.journal.backlog(cursor);
      if (backlog.newest < cursor) {
        o.onRestart?.(cursor, backlog.newest);
        cursor = 0;
        await o.cursor.set(0);
        backlog = await o.journal.backlog(0);
      }
      this.#pending = backlog.pending;
      for (let i = 0; i < (o.maxBatches ?? 10) && !this.#stopped; i++) {
        const page = await o.journal.query({ limit: o.batchSize ?? UPLOAD_BATCH, after: cursor });
        if (page.last === null) break;
        if (!(await this.#send(page.entries))) break;
        cursor = page.last;
        await o.cursor.set(cursor);
        sent += page.entries.length;
        this.#uploaded += page.entries.length;
        this.#pending = Math.max(0, this.#pending - page.entries.length);
        this.#lastUploadAt = o.clock();
        if (page.next === null) break;
      }
    } catch (err) {
      // The journal failed or is closed (its own error is reported where it is opened).
      this.#link.set('refused', LinkState.codeOf(err));
    }
    o.onRound?.({ sent, pending: this.#pending });
  }

  async #send(entries: JournalEntry[]): Promise<boolean> {
    const o = this.#o;
    const list = o.list();
    const body: UploadBody = { listVersion: list?.version ?? null, listIssuedAt: list?.issuedAt ?? null, clockAt: o.clock(), entries, counters: o.counters() };
    try {
      const res = await request(o.url, {
        method: 'POST',
        dispatcher: o.dispatcher,
        headers: { 'content-type': 'application/json', ...authFor(o.url, o.hubOrigin, o.token()) },
        body: JSON.stringify(body),
      });
      await discard(res.body);
      if (res.statusCode >= 200 && res.statusCode < 300) {
        this.#link.set('up');
        return true;
      }
      this.#link.set(LinkState.ofStatus(res.statusCode), String(res.statusCode));
      return false;
    } catch (err) {
      this.#link.set('unreachable', LinkState.codeOf(err));
      return false;
    }
  }
}
