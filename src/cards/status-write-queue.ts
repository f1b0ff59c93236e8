/**
 * The station store's queue of status writes (station-store.ts): fire-and-forget saves and
 * deletes — and the city position that must follow them — collected during one turn of the
 * event loop and sent to the store worker as one message.
 *
 *   push(op) ─> batch of this turn ──(setImmediate, or sendNow)──> send(ops) ─> the worker, in order
 *
 * The worker handles messages in the order they were posted, so a message posted after
 * `sendNow()` is handled after every write queued before it.
 */
import type { HesGateError } from '../errors.js';
import type { StatusOp } from './store-protocol.js';

interface Batch {
  ops: StatusOp[];
  written: Promise<void>;
  resolve(): void;
  reject(err: HesGateError): void;
}

export class StatusWriteQueue {
  readonly #send: (ops: StatusOp[]) => Promise<void>;
  readonly #onError: (err: HesGateError) => void;
  #batch: Batch | undefined;
  /** Settles (never rejects) when the newest batch sent or collecting is written or failed. */
  #flushed: Promise<void> | undefined;

  /**
   * @param send posts the batch to the worker synchronously; its promise settles with the write
   * @param onError where the failures of fire-and-forget writes go (nobody awaits them)
   */
  constructor(send: (ops: StatusOp[]) => Promise<void>, onError: (err: HesGateError) => void) {
    this.#send = send;
    this.#onError = onError;
  }

  /** Queue one write; the promise of its batch's write is for callers that need it (the position). */
  push(op: StatusOp): Promise<void> {
    let batch = this.#batch;
    if (batch === undefined) {
      let resolve!: () => void;
      let reject!: (err: HesGateError) => void;
      const written = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      batch = this.#batch = { ops: [], written, resolve, reject };
      const flushed = written.catch((err: HesGateError) => this.#onError(err));
      this.#flushed = flushed;
      void flushed.then(() => {
        if (this.#flushed === flushed) this.#flushed = undefined;
      });
      setImmediate(() => this.sendNow());
    }
    batch.ops.push(op);
    return batch.written;
  }

  /** Post what is collected now, before whatever the caller posts next. */
  sendNow(): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    this.#batch = undefined;
    this.#send(batch.ops).then(batch.resolve, batch.reject);
  }

  /** Settles when every write queued so far is written (or has failed and been reported). */
  async flush(): Promise<void> {
    while (this.#flushed !== undefined) await this.#flushed;
  }
}
