/**
 * The card side of a running station, assembled in one place: the card store with its health,
 * the status service that persists into it (its statuses restored at opening), and the refresher
 * that keeps bound codes fresh. The refresher is built here but started by the caller: only a
 * standalone station runs its own.
 *
 *   store health <─ write errors ── card store ─> status service (restored) ─> refresher
 *
 * Log lines come from the caller's observer (ops/part-logs.ts `cardStoreLogs`).
 */
import { resolve } from 'node:path';
import type { Closers } from '../closers.js';
import type { Config } from '../config/schema.js';
import { createRefresher, type Refresher, type RefresherOptions } from '../status/refresher.js';
import { StatusService, type LookupFn } from '../status/status-service.js';
import type { AnswerHook } from '../status/types.js';
import type { Clock } from '../types.js';
import { openStationStore, type StationStore, type StationStoreOptions } from './station-store.js';
import { StoreHealth } from './store-health.js';

/** What the card side reports, as it is assembled and while it runs. */
export interface CardSideObserver {
  /** A status write that failed (the store's health counts it too). */
  onWriteError(err: unknown): void;
  onIndexed: NonNullable<StationStoreOptions['onIndexed']>;
  /** The store is open and the persisted statuses are restored. */
  opened(e: { bindings: number; restoredStatuses: number }): void;
  refresher(refresher: Refresher): void;
}

export interface CardSideOptions {
  clock: Clock;
  /** Each part opened here adds its close, in the order it was opened. */
  closers: Closers;
  /** The ministry calls: one code on a tap's cache miss, many for the refresher (ministry/status-calls.ts). */
  calls: RefresherOptions['ministry'] & { single: LookupFn };
  observer: CardSideObserver;
}

export interface CardSide {
  cards: StationStore;
  /** One health rule for /readyz and card_store_up. */
  storeHealth: StoreHealth;
  status: StatusService;
  refresher: Refresher;
  /** In a city (station or hub), where each tap's ministry answer is shared, once the city tier runs. */
  shareAnswers(hook: AnswerHook): void;
}

export async function openCardSide(config: Config, o: CardSideOptions): Promise<CardSide> {
  const { clock, closers, calls, observer } = o;
  const storeHealth = new StoreHealth({ clock, read: () => cards.getBinding('00000000'), countBindings: () => cards.bindingCount });
  const onWriteError = (err: unknown): void => {
    storeHealth.writeFailed();
    observer.onWriteError(err);
  };
  const cards = await openStationStore({ dataDir: resolve(config.dataDir), clock, onWriteError, onIndexed: observer.onIndexed });
  closers.add(() => cards.close());

  // A station shares its taps' ministry answers with its city (set once the city tier runs).
  let shareAnswer: AnswerHook | undefined;
  const inCity = config.city.role === 'station' || config.city.role === 'hub';
  const status = new StatusService({ ...config.cache, ministry: calls.single, clock, persistence: cards, ...(inCity ? { onAnswer: (code, answer, at) => shareAnswer?.(code, answer, at) } : {}) });
  closers.add(() => status.drain());
  observer.opened({ bindings: cards.bindingCount, restoredStatuses: status.restore(inCity) });

  const backoff = { initialMs: config.refresher.backoffInitialMs, maxMs: config.refresher.backoffMaxMs };
  const refresher = createRefresher({ store: cards, ministry: calls, sink: status, clock, budgetCallsPerSecond: config.refresher.callsPerSecond, backoff });
  observer.refresher(refresher);
  closers.add(() => refresher.stop());
  return { cards, storeHealth, status, refresher, shareAnswers: (hook) => (shareAnswer = hook) };
}
