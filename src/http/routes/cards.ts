/**
 * Card administration over HTTP (a fastify plugin): bind, read, unbind and bulk-import cards.
 *
 *   PUT    /v1/cards/:cardId   {"hesCode", "profile"?}   → 201 created | 200 updated/unchanged
 *   GET    /v1/cards/:cardId                             → masked binding | 404
 *   DELETE /v1/cards/:cardId                             → 204 | 404
 *   POST   /v1/cards/import    NDJSON lines or a JSON array → import report
 *
 * Every route needs `Authorization: Bearer <admin token>`; without a configured token the API is
 * disabled. Answers and the admin journal carry masked HES codes only; every change is
 * journaled as `admin`.
 */
import { bearerGuard } from '../auth.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HesGateError } from '../../errors.js';
import { maskHesCode } from '../../privacy/mask.js';
import { checkBinding, type CardBinding } from '../../cards/binding.js';
import { canonicalCardId } from '../../credentials/card-id.js';
import { importCardLines, importCardRecords, type ImportReport } from '../../cards/import.js';
import { bindingError, type CardStore, type PutOutcome } from '../../cards/store.js';

export type CardChangeEvent =
  | { action: 'put'; cardId: string; hesCode: string; profile: string; outcome: Exclude<PutOutcome, 'unchanged'> }
  | { action: 'delete'; cardId: string; hesCode: string }
  | { action: 'import'; imported: number; created: number; updated: number; rejected: number };

export interface CardRoutesOptions {
  store: CardStore;
  /** The admin bearer token; undefined (or empty) disables the admin API. */
  adminToken: string | undefined;
  /** Told after every change (in-process only: carries full ids, for caches and the refresher). */
  onChange?: (e: CardChangeEvent) => void;
  /** Largest import body, bytes. @default 16 MiB */
  importBodyLimitBytes?: number;
  /** Rows per transaction for imports. @default 5000 */
  importBatchSize?: number;
}

/** Journal actor for every change made through this API. */
const WHO = 'admin';

export interface MaskedBinding {
  cardId: string;
  /** `A1B2-****-**` */
  hesCode: string;
  profile: string;
  /** ISO 8601 */
  updatedAt: string;
}

function masked(b: CardBinding): MaskedBinding {
  return { cardId: b.cardId, hesCode: maskHesCode(b.hesCode), profile: b.profile, updatedAt: new Date(b.updatedAt).toISOString() };
}

function cardIdParam(req: FastifyRequest): string {
  const raw = (req.params as { cardId?: string }).cardId ?? '';
  const id = canonicalCardId(raw);
  if (!id.ok) throw bindingError('CARD_ID_INVALID');
  return id.id;
}

function putBody(body: unknown): { hesCode: string; profile: string | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HesGateError('HG_BAD_REQUEST', 'expected a JSON object {"hesCode": string, "profile"?: string}');
  }
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'hesCode' && key !== 'profile') {
      throw new HesGateError('HG_BAD_REQUEST', `unexpected field "${key.slice(0, 32)}": expected {"hesCode": string, "profile"?: string}`);
    }
  }
  if (typeof o['hesCode'] !== 'string') throw new HesGateError('HG_BAD_REQUEST', '"hesCode" must be a string');
  if (o['profile'] !== undefined && typeof o['profile'] !== 'string') throw new HesGateError('HG_BAD_REQUEST', '"profile" must be a string');
  return { hesCode: o['hesCode'], profile: o['profile'] as string | undefined };
}

export async function cardRoutes(app: FastifyInstance, opts: CardRoutesOptions): Promise<void> {
  const { store, onChange } = opts;
  const bodyLimit = opts.importBodyLimitBytes ?? 16 * 1024 * 1024;
  const batchSize = opts.importBatchSize ?? 5000;

  if (opts.adminToken) {
    app.addHook('onRequest', bearerGuard(opts.adminToken, 'card admin API'));
  } else {
    app.addHook('onRequest', async () => {
      throw new HesGateError('HG_UNAUTHORIZED', 'the card admin API is disabled: no admin token is configured (set HES_GATE_ADMIN_TOKEN)');
    });
  }

  // Bulk bodies: NDJSON as one string; this parser exists in this plugin's scope only.
  app.addContentTypeParser(['application/x-ndjson', 'application/ndjson'], { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    done(null, body);
  });

  app.put('/v1/cards/:cardId', async (req, reply) => {
    const cardId = cardIdParam(req);
    const body = putBody(req.body);
    const checked = checkBinding(cardId, body.hesCode, body.profile);
    if (!checked.ok) throw bindingError(checked.problem);
    const { hesCode, profile } = checked.binding;
    const outcome = store.putBinding(checked.binding);
    if (outcome !== 'unchanged') {
      store.journal({ who: WHO, action: outcome === 'created' ? 'bind' : 'rebind', cardId, hesCode, detail: { profile } });
      onChange?.({ action: 'put', cardId, hesCode, profile, outcome });
    }
    const binding = store.getBinding(cardId);
    if (binding === undefined) throw new HesGateError('HG_STORE', 'the binding was not found right after it was written');
    return reply.code(outcome === 'created' ? 201 : 200).send({ ...masked(binding), outcome });
  });

  app.get('/v1/cards/:cardId', async (req) => {
    const binding = store.getBinding(cardIdParam(req));
    if (binding === undefined) throw new HesGateError('HG_NOT_FOUND', 'this card is not bound');
    return masked(binding);
  });

  app.delete('/v1/cards/:cardId', async (req, reply) => {
    const cardId = cardIdParam(req);
    const removed = store.deleteBinding(cardId);
    if (removed === undefined) throw new HesGateError('HG_NOT_FOUND', 'this card is not bound');
    store.journal({ who: WHO, action: 'unbind', cardId, hesCode: removed.hesCode });
    onChange?.({ action: 'delete', cardId, hesCode: removed.hesCode });
    return reply.code(204).send();
  });

  app.post('/v1/cards/import', { bodyLimit }, async (req) => {
    let report: ImportReport;
    if (typeof req.body === 'string') {
      report = await importCardLines({ store, lines: req.body.split('\n'), format: 'ndjson', batchSize, journalAs: WHO });
    } else if (Array.isArray(req.body)) {
      report = importCardRecords({ store, records: req.body, batchSize, journalAs: WHO });
    } else {
      throw new HesGateError(
        'HG_BAD_REQUEST',
        'expected application/x-ndjson lines or a JSON array of {"cardId", "hesCode", "profile"?} objects',
      );
    }
    if (report.created + report.updated > 0) {
      onChange?.({ action: 'import', imported: report.imported, created: report.created, updated: report.updated, rejected: report.rejected });
    }
    return report;
  });
}
