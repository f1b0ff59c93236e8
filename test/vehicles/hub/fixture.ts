/** A hub's data directory for the vehicle tests: a real card store, real key files, a publish directory. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeKey } from '../../../src/city/identity/node-key.js';
import { openCardStore } from '../../../src/cards/store.js';
import type { CardStore } from '../../../src/cards/store-types.js';
import { registerApi } from '../../../src/http/api.js';
import { createHttpApp } from '../../../src/http/app.js';
import { createLogger } from '../../../src/ops/logger.js';
import type { Clock, HealthStatus } from '../../../src/types.js';
import type { VehiclePublishing } from '../../../src/vehicles/hub/index.js';
import { ListKey } from '../../../src/vehicles/list/index.js';
import { tempDir } from '../../cards/helpers.js';

/** vehicles.mqtt with no broker (no push notice). */
export const NO_MQTT = { url: null, topic: 'hes-gate/vehicle-list', user: null, password: null } as const;

export interface HubDir {
  dataDir: string;
  publishDir: string;
  listKeyFile: string;
  signingKeyFile: string;
  listKey: ListKey;
  publicKey: KeyObject;
  store: CardStore;
}

/** A new hub directory: removed after each test unless `dataDir` is given (the caller removes it). */
export function hubDir(dataDir = tempDir('hg-vhub-')): HubDir {
  const publishDir = join(dataDir, 'vehicle-lists');
  mkdirSync(publishDir);
  const listKeyFile = join(dataDir, 'list-key');
  const signingKeyFile = join(dataDir, 'signing-key.pem');
  writeFileSync(listKeyFile, ListKey.generate('vl-test'), { mode: 0o600 });
  const { pem } = NodeKey.generate();
  writeFileSync(signingKeyFile, pem, { mode: 0o600 });
  const store = openCardStore({ dataDir });
  return { dataDir, publishDir, listKeyFile, signingKeyFile, listKey: ListKey.parse(readFileSync(listKeyFile, 'utf8')), publicKey: createPublicKey(pem), store };
}

/** Bind a card and (unless status is null) persist its code's status. */
export function bind(store: CardStore, cardId: string, hesCode: string, profile: string, status: { status: HealthStatus; expiresAt: number } | null, fetchedAt = Date.now()): void {
  store.putBinding({ cardId, hesCode, profile });
  if (status !== null) store.saveStatuses([{ code: hesCode, record: { status: status.status, expiresAt: status.expiresAt, fetchedAt } }]);
}

/** A hub's HTTP app serving the vehicle routes (and the card admin routes on `store`), no tokens; not yet listening. */
export async function vehicleRoutesApp(store: Parameters<typeof registerApi>[1]['cards']['store'], routes: VehiclePublishing['routes'], clock: Clock): Promise<FastifyInstance> {
  const app = createHttpApp({ bodyLimitBytes: 8192, logger: createLogger('silent') });
  await registerApi(app, {
    version: 'test',
    clock,
    station: 'hub-a',
    tokens: { admin: null, api: null },
    ops: { registry: (await import('prom-client')).register, readiness: [], informational: () => [], devices: () => [] },
    decisions: { decisions: {} as never },
    live: { feed: {} as never, history: async () => ({}) as never },
    journal: null,
    cards: { store },
    vehicles: routes,
  });
  return app;
}

/** Polls `check` every 50 ms until it gives a value, or throws after `timeoutMs`. */
export async function until<T>(what: string | (() => string), check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${typeof what === 'string' ? what : what()}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
