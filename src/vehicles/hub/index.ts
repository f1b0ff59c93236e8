/**
 * A hub's side of vehicles (docs/vehicles.md), as the composition root starts it on a hub with
 * vehicles.enabled:
 *
 *   registry (vehicle-registry.ts) ── tokens, revocations, uploads ──> routes (http/routes/vehicles.ts)
 *   lease ── acquired ─> publisher.lead(token) ─> builder worker ─> files in publishDir, head in memory + data dir
 *         └─ lost ─────> publisher.standBy()
 *
 * Only the lease holder publishes (one publisher, strictly increasing versions); every hub keeps
 * its registry and takes uploads.
 */
import { createPrivateKey } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { LeaseEvents } from '../../city/types.js';
import type { Config } from '../../config/schema.js';
import { HesGateError } from '../../errors.js';
import type { Clock, Timers } from '../../types.js';
import type { DecisionRecord } from '../../journal/types.js';
import { ListKey, signHead } from '../list/index.js';
import { readHeadRecord } from './head-record.js';
import { startListBuilder } from './list-builder.js';
import { VehicleNotices } from './notices.js';
import { VehiclePublisher } from './publisher.js';
import type { VehicleHubReport, VehicleServing } from './types.js';

export type { VehicleHubReport, VehicleServing } from './types.js';
import { VehicleRegistry, type RegistryStore } from './vehicle-registry.js';

/** The lease as the publisher follows it (city/hub/lease.ts). */
export type LeaseView = Pick<EventEmitter<LeaseEvents>, 'on' | 'off'> & { readonly holding: boolean; readonly token: number | null };

export interface VehiclePublishingOptions {
  config: Readonly<Pick<Config, 'dataDir' | 'vehicles'> & Partial<Pick<Config, 'cache' | 'stationId'>>>;
  store: RegistryStore;
  lease: LeaseView;
  journal: { record(e: DecisionRecord): void } | null;
  logger: Logger;
  clock: Clock;
  timers?: Timers;
  /** How often the registry is re-read when another process changed it, ms. @default 1000 */
  registryRefreshMs?: number;
  /** How often the notice broker is tried again after a loss, ms. @default 5000 */
  noticeReconnectMs?: number;
}


export interface VehiclePublishing {
  registry: VehicleRegistry;
  publisher: VehiclePublisher;
  /** The options of http/routes/vehicles.ts (registered by http/api.ts). */
  routes: VehicleServing;
  report(): VehicleHubReport;
  close(): Promise<void>;
}

/** The publish directory the configuration names (`<dataDir>/vehicle-lists` by default). */
export function publishDirOf(config: Readonly<Pick<Config, 'dataDir' | 'vehicles'>>): string {
  return resolve(config.vehicles.publishDir ?? resolve(config.dataDir, 'vehicle-lists'));
}

/**
 * Start the registry, and publish while the lease is held. Rejects (HG_CONFIG_FILE,
 * HG_CONFIG_INVALID) on a key file that cannot be read or parsed: a hub told to publish that
 * cannot is refused at start, not left silently publishing nothing.
 */
export async function startVehiclePublishing(o: VehiclePublishingOptions): Promise<VehiclePublishing> {
  const v = o.config.vehicles;
  const logger = o.logger.child({ component: 'vehicles' });
  if (v.listKeyFile === null || v.signingKeyFile === null) throw new HesGateError('HG_CONFIG_INVALID', 'vehicles.listKeyFile and vehicles.signingKeyFile are required with vehicles.enabled (hes-gate vehicle keygen)');
  // Both keys checked here, on start: the builder reads them again in its own thread.
  await ListKey.load(v.listKeyFile);
  let signer;
  try {
    signer = createPrivateKey({ key: await readFile(v.signingKeyFile, 'utf8'), format: 'pem' });
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `vehicles.signingKeyFile ${v.signingKeyFile} cannot be read or is not a PEM private key (hes-gate vehicle keygen)`, { cause: err, details: { key: 'vehicles.signingKeyFile' } });
  }
  if (signer.asymmetricKeyType !== 'ed25519') throw new HesGateError('HG_CONFIG_FILE', `vehicles.signingKeyFile holds a ${signer.asymmetricKeyType ?? 'unknown'} key, not Ed25519`, { details: { key: 'vehicles.signingKeyFile' } });
  const publishDir = publishDirOf(o.config);
  // A directory made here is made readable to a static server (the service's umask is 0077); one
  // the operator made keeps its mode. Inside a private dataDir a static server cannot reach it anyway.
  if ((await mkdir(publishDir, { recursive: true })) !== undefined) await chmod(publishDir, 0o755);
  const headFile = resolve(o.config.dataDir, 'vehicle-head.json');
  const restored = await readHeadRecord(headFile);
  if (restored !== null) logger.info({ event: 'vehicles.restored', version: restored.head.version }, `vehicles: the last published version is ${restored.head.version}`);

  const registry = new VehicleRegistry({
    store: o.store,
    refreshMs: o.registryRefreshMs ?? 1000,
    ...(o.timers === undefined ? {} : { timers: o.timers }),
    onError: (err) => logger.error({ event: 'vehicles.registry.failed', error: (err as { code?: string }).code ?? 'error' }, 'vehicles: the vehicle registry could not be re-read; the last view stays'),
  });
  await registry.start();

  // The push notice: the mqtt package is loaded only when a broker is configured.
  const notices =
    v.mqtt.url === null
      ? null
      : await VehicleNotices.open({ url: v.mqtt.url, topic: v.mqtt.topic, user: v.mqtt.user, password: v.mqtt.password, clientIdPrefix: `hes-gate-hub-${o.config.stationId ?? 'hub'}`, logger, ...(o.noticeReconnectMs === undefined ? {} : { reconnectPeriodMs: o.noticeReconnectMs }) });

  const publisher = new VehiclePublisher({
    publishDir,
    headFile,
    restored,
    publishEveryMs: v.publishEveryMs,
    snapshotEveryMs: v.snapshotEveryMs,
    keepSnapshots: v.keepSnapshots,
    horizonMs: v.horizonMs,
    ...(o.config.cache === undefined ? {} : { statusMaxAgeMs: o.config.cache.lastKnownMaxAgeMs }),
    startBuilder: () => startListBuilder({ dataDir: resolve(o.config.dataDir), listKeyFile: v.listKeyFile!, signingKeyFile: v.signingKeyFile!, publishDir }),
    signHead: (head) => signHead(head, signer),
    clock: o.clock,
    ...(o.timers === undefined ? {} : { timers: o.timers }),
    logger,
    ...(notices === null ? {} : { onPublished: (n: { version: number; issuedAt: number }) => notices.notify(n) }),
  });
  const lead = ({ token }: { token: number }): void => {
    publisher.lead(token).catch((err: unknown) => logger.error({ event: 'vehicles.build.failed', error: (err as { code?: string }).code ?? 'error' }, `vehicles: the list builder did not start: ${(err as Error).message}`));
  };
  const standBy = (): void => void publisher.standBy();
  o.lease.on('acquired', lead);
  o.lease.on('lost', standBy);
  if (o.lease.holding && o.lease.token !== null) lead({ token: o.lease.token });

  return {
    registry,
    publisher,
    routes: { registry, head: () => publisher.headText(), headFor: (after) => publisher.headFor(after), publishDir, journal: o.journal, clock: o.clock },
    report: () => ({
      publisher: publisher.report(),
      notices: notices?.report() ?? null,
      vehicles: registry.vehicles().map((r) => ({ id: r.id, revoked: r.revokedAt !== null, lastUploadAt: r.lastUploadAt, lastListIssuedAt: r.lastListIssuedAt, lastListVersion: r.lastListVersion })),
      maxListAgeMs: v.maxListAgeMs,
    }),
    close: async () => {
      o.lease.off('acquired', lead);
      o.lease.off('lost', standBy);
      registry.stop();
      await publisher.standBy();
      await notices?.close();
    },
  };
}
