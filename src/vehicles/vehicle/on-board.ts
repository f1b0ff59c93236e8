/**
 * The vehicle role, composed (`city.role: "vehicle"`): what the composition root calls.
 *
 *   onBoard(config, clock, logger)        at once: the signed clock, the card list (empty)
 *     .start({ journal })                 token, list key, list worker ─> the list on disk swapped in,
 *                                         then the fetcher polls; the uploader sends the journal
 *     .cardList  → DecisionService        card taps decided from the list (no HES code on board)
 *     .clock     → every stage            never behind the newest signed time verified
 *     .report()  → ops/on-board-metrics.ts
 *
 * HES codes and QR taps go through the status service as at a station (the ministry when the
 * link is up, the outage policy otherwise).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { HesGateError } from '../../errors.js';
import type { JournalBacklog, JournalPage, JournalQuery } from '../../journal/types.js';
import type { Clock, ReadinessCheck } from '../../types.js';
import { ListKey } from '../list/list-key.js';
import type { RefusalReason } from '../list/types.js';
import { CardList } from './card-list.js';
import { hubAgent } from './hub-http.js';
import type { LinkChange } from './link-state.js';
import { ListFetcher } from './list-fetcher.js';
import { ListWorkerClient } from './list-worker-client.js';
import { NoticeListener } from './notice-listener.js';
import { vehicleReadiness } from './readiness.js';
import { SignedClock } from './signed-clock.js';
import { UploadCursor } from './upload-cursor.js';
import type { OnBoardReport } from './on-board-types.js';
import { Uploader } from './uploader.js';

export type { OnBoardReport } from './on-board-types.js';

export interface OnBoard {
  /** The signed clock: pass it wherever this node reads the time. */
  clock: Clock;
  cardList: CardList;
  start(o: { journal: { query(q: JournalQuery): Promise<JournalPage>; backlog(after: number): Promise<JournalBacklog>; dropped?: number } | null }): Promise<void>;
  report(): OnBoardReport;
  /** Its list on /readyz (informational). */
  readiness(): ReadinessCheck;
  /** Ask the hub for a newer list now (or join the poll running); resolves when it ended. */
  poll(): Promise<void>;
  /** Upload the journal's new records now (or join the round running); nothing when the journal is off. */
  upload(): Promise<void>;
  close(): Promise<void>;
}

/** The hub's URL beside `headUrl` (`…/v1/vehicle-list/head` → `…/v1/<path>`). */
function beside(headUrl: string, path: string): string {
  return new URL(`../${path}`, headUrl).href;
}

async function readToken(file: string): Promise<string> {
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token !== '') return token;
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `vehicle.tokenFile ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): fix the path or the file's permissions`, { cause: err, details: { key: 'vehicle.tokenFile' } });
  }
  throw new HesGateError('HG_CONFIG_FILE', `vehicle.tokenFile ${file} is empty: write the token hes-gate vehicle add printed into it`, { details: { key: 'vehicle.tokenFile' } });
}

export function onBoard(config: Readonly<Config>, baseClock: Clock, logger: Logger): OnBoard {
  const v = config.vehicle;
  // The id the hub registered this vehicle under (its token says who it is; the log says it too).
  const log = logger.child({ component: 'vehicle', vehicle: v.id ?? config.stationId });
  const signed = new SignedClock(baseClock);
  let key: ListKey | null = null;
  const cardList = new CardList({ fingerprint: (id, bits) => key!.fingerprint(id, bits), clock: signed.now, maxListAgeMs: v.maxListAgeMs });
  const dispatcher = hubAgent();
  let worker: ListWorkerClient | null = null;
  let fetcher: ListFetcher | null = null;
  let uploader: Uploader | null = null;
  let notices: NoticeListener | null = null;
  let lastRefusal: RefusalReason | null = null;
  const linkLog = (what: string) => (c: LinkChange): void => {
    const line = { event: 'vehicle.link', part: what, state: c.state, previous: c.previous, detail: c.detail };
    if (c.state === 'up') log.info(line, `${what}: the hub answers again`);
    else log.warn(line, `${what}: ${c.state}${c.detail === '' ? '' : ` (${c.detail})`}; the list held decides meanwhile`);
  };

  const report = (): OnBoardReport => {
    const list = fetcher?.report() ?? { version: null, issuedAt: null, count: null, refused: new Map<RefusalReason, number>(), bytesFetched: 0, link: 'starting' as const };
    return {
      list,
      listAgeMs: list.issuedAt === null ? null : signed.now() - list.issuedAt,
      clockBehindMs: signed.behindMs(),
      uploads: uploader?.report() ?? null,
      notices: notices?.report() ?? null,
    };
  };

  return {
    clock: signed.now,
    cardList,
    report,
    readiness: () => vehicleReadiness(report, v.maxListAgeMs),
    poll: async () => fetcher?.poll(),
    upload: async () => uploader?.round(),
    async start({ journal }) {
      const headUrl = v.headUrl!;
      const token = await readToken(v.tokenFile!);
      key = await ListKey.load(v.listKeyFile!);
      const dir = resolve(config.dataDir, 'vehicle-list');
      worker = new ListWorkerClient({ dir, publicKey: v.publicKey!, keyId: key.keyId });
      const filesUrl = v.filesUrl ?? beside(headUrl, 'vehicle-list/files/');
      fetcher = new ListFetcher({
        headUrl,
        filesUrl: filesUrl.endsWith('/') ? filesUrl : `${filesUrl}/`,
        token: () => token,
        dir,
        worker,
        list: cardList,
        clock: signed,
        pollMs: v.pollMs,
        dispatcher,
        onLink: linkLog('list'),
        onRefused: (reason, message) => {
          // The same refusal every poll (a head under another key, a file tampered on the way) is counted each time, said once.
          if (reason === lastRefusal) return;
          lastRefusal = reason;
          log.warn({ event: 'vehicle.list.refused', reason }, `vehicle list refused (${reason}): ${message}; the version held stays`);
        },
        onVersion: (e) => {
          lastRefusal = null;
          log.info({ event: 'vehicle.list.version', version: e.version, issuedAt: new Date(e.issuedAt).toISOString(), cards: e.count, from: e.from }, `vehicle list version ${e.version} (${e.count} cards, from ${e.from})`);
        },
      });
      await fetcher.start();
      if (v.mqtt.url !== null) {
        const f = fetcher;
        notices = await NoticeListener.open({
          url: v.mqtt.url,
          topic: v.mqtt.topic,
          user: v.mqtt.user,
          password: v.mqtt.password,
          clientIdPrefix: `hes-gate-vehicle-${v.id ?? config.stationId}`,
          logger: log,
          held: () => cardList.held?.version ?? null,
          poll: () => f.pollFresh(),
          minPollGapMs: v.mqtt.minPollGapMs,
        });
      }
      if (report().list.version === null) log.warn({ event: 'vehicle.list.none' }, 'no vehicle list held yet: card taps are decided by the outage policy until one is fetched');
      if (journal === null) {
        log.warn({ event: 'vehicle.upload.off' }, 'journal.enabled is false: this vehicle keeps and uploads no decisions');
        return;
      }
      const uploadUrl = v.uploadUrl ?? beside(headUrl, 'vehicles/reports');
      uploader = new Uploader({
        url: uploadUrl,
        hubOrigin: new URL(headUrl).origin,
        token: () => token,
        journal,
        cursor: new UploadCursor(resolve(config.dataDir, 'vehicle-upload-cursor')),
        list: () => {
          const h = cardList.held;
          return h === null ? null : { version: h.version, issuedAt: h.issuedAt };
        },
        counters: () => {
          const r = report();
          // Counter names as the hub accepts them: lower case, digits and underscores.
          return { bytes_fetched: r.list.bytesFetched, ...Object.fromEntries([...r.list.refused].map(([reason, n]) => [`refused_${reason}`, n])), journal_dropped: journal.dropped ?? 0 };
        },
        clock: baseClock,
        everyMs: v.uploadEveryMs,
        dispatcher,
        onLink: linkLog('upload'),
        onRestart: (cursor, newest) => log.warn({ event: 'vehicle.upload.restart', cursor, newest }, 'the journal holds fewer records than were uploaded (emptied by retention or replaced): uploading from its start'),
      });
      uploader.start();
    },
    async close() {
      await notices?.close();
      await uploader?.stop();
      await fetcher?.stop();
      await worker?.close();
      await dispatcher.close();
    },
  };
}
