/** A hub's data directory for the vehicle tests: a real card store, real key files, a publish directory. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeKey } from '../../../src/city/identity/node-key.js';
import { openCardStore } from '../../../src/cards/store.js';
import type { CardStore } from '../../../src/cards/store-types.js';
import type { HealthStatus } from '../../../src/types.js';
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
