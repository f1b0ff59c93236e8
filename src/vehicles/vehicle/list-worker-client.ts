/**
 * The main thread's side of the list worker (list-worker.ts): one request at a time per caller,
 * answered by id. The worker's answers are plain data; a state arrives in SharedArrayBuffers.
 */
import { Worker } from 'node:worker_threads';
import { workerUrl } from '../../worker-url.js';
import type { FileRef } from '../list/types.js';
import type { FromListWorker, ListWorkerAnswer, ListWorkerData, ToListWorker } from './list-worker.js';

type Request = ToListWorker extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export class ListWorkerClient {
  readonly #worker: Worker;
  readonly #calls = new Map<number, { resolve: (a: ListWorkerAnswer) => void; reject: (e: Error) => void }>();
  #next = 1;
  #failed: Error | null = null;

  constructor(data: Omit<ListWorkerData, 'vehicleListWorker'>) {
    this.#worker = new Worker(workerUrl('list-worker', import.meta.url), { workerData: { vehicleListWorker: true, ...data } satisfies ListWorkerData, name: 'hes-gate vehicle list' });
    this.#worker.on('message', (m: FromListWorker) => {
      const call = this.#calls.get(m.id);
      if (call === undefined) return;
      this.#calls.delete(m.id);
      if ('error' in m) call.reject(new Error(`vehicle list worker: ${m.error}`));
      else call.resolve(m.answer);
    });
    this.#worker.on('error', (err) => this.#fail(new Error(`vehicle list worker: ${err.message}`)));
    this.#worker.on('exit', () => this.#fail(new Error('vehicle list worker stopped')));
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const [id, c] of this.#calls) {
      this.#calls.delete(id);
      c.reject(err);
    }
  }

  #call(request: Request): Promise<ListWorkerAnswer> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...request } as ToListWorker);
    });
  }

  restore(): Promise<ListWorkerAnswer> {
    return this.#call({ type: 'restore' });
  }

  head(text: string): Promise<ListWorkerAnswer> {
    return this.#call({ type: 'head', text });
  }

  apply(path: string, ref: FileRef): Promise<ListWorkerAnswer> {
    return this.#call({ type: 'apply', path, ref });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
