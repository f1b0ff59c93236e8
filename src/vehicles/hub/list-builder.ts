/**
 * The main thread's handle on the list builder's worker (list-build-worker.ts): one build at a
 * time, answered with names and sizes only. Started when this hub begins to publish and stopped
 * when it stops, so a standby hub holds no list in memory.
 */
import { Worker } from 'node:worker_threads';
import { ERRORS, HesGateError, type ErrorCode } from '../../errors.js';
import { workerUrl } from '../../worker-url.js';
import type { BuildOutcome, BuildRequest, BuildWorkerData, FromBuilder } from './list-build-worker.js';

export type { BuildOutcome, BuildRequest } from './list-build-worker.js';

export interface ListBuilder {
  readonly keyId: string;
  build(req: Omit<BuildRequest, 'type' | 'id'>): Promise<BuildOutcome>;
  /** The next build is a snapshot: what was published is not what the builder holds. */
  forget(): void;
  close(): Promise<void>;
}

function coded(code: string, message: string): HesGateError {
  return new HesGateError((code in ERRORS ? code : 'HG_INTERNAL') as ErrorCode, message);
}

export async function startListBuilder(data: BuildWorkerData): Promise<ListBuilder> {
  const url = workerUrl('list-build-worker', import.meta.url);
  // From the TypeScript sources (tests), Node strips types itself; the list codec uses syntax
  // stripping alone cannot run (parameter properties), so such a worker transforms instead.
  const execArgv = url.protocol === 'data:' ? [...process.execArgv, '--experimental-transform-types'] : undefined;
  const worker = new Worker(url, { workerData: data, name: 'hes-gate vehicle list', ...(execArgv === undefined ? {} : { execArgv }) });
  const pending = new Map<number, { resolve(r: BuildOutcome): void; reject(e: Error): void }>();
  let dead: Error | undefined;
  const fail = (err: Error): void => {
    dead ??= err;
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
  };
  let onMessage: (m: FromBuilder) => void = () => undefined;
  let onError: (err: Error) => void = () => undefined;
  let onExit: () => void = () => undefined;
  const keyId = await new Promise<string>((resolve, reject) => {
    onMessage = (m) => {
      if (m.type === 'ready') resolve(m.keyId);
      else if (m.type === 'failed') reject(coded(m.code, m.message));
    };
    onError = (err) => reject(new HesGateError('HG_INTERNAL', 'the vehicle list builder failed to start', { cause: err }));
    onExit = () => reject(new HesGateError('HG_INTERNAL', 'the vehicle list builder stopped while starting'));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  })
    .catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    })
    .finally(() => {
      // Only our own listeners: the Worker keeps internal ones that deliver its messages.
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    });
  worker.on('message', (m: FromBuilder) => {
    if (m.type !== 'built' && m.type !== 'error') return;
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.type === 'built') p.resolve(m.result);
    else p.reject(coded(m.code, m.message));
  });
  worker.on('error', (err) => fail(new HesGateError('HG_INTERNAL', 'the vehicle list builder failed', { cause: err })));
  worker.on('exit', () => fail(new HesGateError('HG_INTERNAL', 'the vehicle list builder has stopped')));
  let nextId = 1;
  return {
    keyId,
    build(req) {
      if (dead !== undefined) return Promise.reject(dead);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ type: 'build', id, ...req } satisfies BuildRequest);
      });
    },
    forget() {
      if (dead === undefined) worker.postMessage({ type: 'forget' });
    },
    async close() {
      await worker.terminate();
    },
  };
}
