/**
 * Card administration over HTTP (a fastify plugin): bind, read, unbind and bulk-import cards.
 *
 *   PUT    /v1/cards/:cardId   {"hesCode", "profile"?}   → 201 created | 200 updated/unchanged
 *   GET    /v1/cards/:cardId                             → masked binding | 404
 *   DELETE /v1/cards/:cardId                             → 204 | 404
 *   POST   /v1/cards/import    NDJSON lines, CSV or a JSON array → import report
 *
 * Every route needs `Authorization: Bearer <admin token>`; without a configured token the API is
 * disabled. Answers and the admin journal carry masked HES codes only; every change is
 * journaled as `admin`. Writes go to the store's worker (station-store.ts): an import's body is
 * relayed to it chunk by chunk, unparsed, so a big import never holds up the taps.
 */
import { bearerGuard } from '../auth.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HesGateError } from '../../errors.js';
import { maskHesCode } from '../../privacy/mask.js';
import { checkBinding, type CardBinding } from '../../cards/binding.js';
import { canonicalCardId } from '../../credentials/card-id.js';
import type { StreamFormat } from '../../cards/import-stream.js';
import { bindingError, type PutOutcome } from '../../cards/store.js';
import type { StationStore } from '../../cards/station-store.js';

export type CardChangeEvent =
  | { action: 'put'; cardId: string; hesCode: string; profile: string; outcome: Exclude<PutOutcome, 'unchanged'> }
  | { action: 'delete'; cardId: string; hesCode: string }
  | { action: 'import'; imported: number; created: number; updated: number; rejected: number };

/** Where the routes' writes go (the local store unless told otherwise; src/city/hub/writers.ts). */
export type BindingWriter = Pick<StationStore, 'adminPut' | 'adminDelete' | 'importStream'>;

export interface CardRoutesOptions {
  store: Pick<StationStore, 'getBinding' | 'adminPut' | 'adminDelete' | 'importStream'>;
  /**
   * Writes go here instead of `store`: a city hub's registry, or a station's refusal
   * (HG_CITY_REPLICA); reads stay on the local store (a replica in a city). @default store
   */
  writer?: BindingWriter;
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
      throw new HesGateError('HG_BAD_REQUEST', 'unexpected field (not named: it is the sender\'s text); expected {"hesCode": string, "profile"?: string}');
    }
  }
  if (typeof o['hesCode'] !== 'string') throw new HesGateError('HG_BAD_REQUEST', '"hesCode" must be a string');
  if (o['profile'] !== undefined && typeof o['profile'] !== 'string') throw new HesGateError('HG_BAD_REQUEST', '"profile" must be a string');
  return { hesCode: o['hesCode'], profile: o['profile'] as string | undefined };
}

export async function cardRoutes(app: FastifyInstance, opts: CardRoutesOptions): Promise<void> {
  const { store, onChange } = opts;
  const writer = opts.writer ?? store;
  const bodyLimit = opts.importBodyLimitBytes ?? 16 * 1024 * 1024;
  const batchSize = opts.importBatchSize ?? 5000;

  if (opts.adminToken) {
    app.addHook('onRequest', bearerGuard(opts.adminToken, 'card admin API'));
  } else {
    app.addHook('onRequest', async () => {
      throw new HesGateError('HG_UNAUTHORIZED', 'the card admin API is disabled: no admin token is configured (set HES_GATE_ADMIN_TOKEN)');
    });
  }

  app.put('/v1/cards/:cardId', async (req, reply) => {
    const cardId = cardIdParam(req);
    const body = putBody(req.body);
    const checked = checkBinding(cardId, body.hesCode, body.profile);
    if (!checked.ok) throw bindingError(checked.problem);
    const { hesCode, profile } = checked.binding;
    const { outcome, binding } = await writer.adminPut(checked.binding, WHO);
    if (outcome !== 'unchanged') onChange?.({ action: 'put', cardId, hesCode, profile, outcome });
    return reply.code(outcome === 'created' ? 201 : 200).send({ ...masked(binding), outcome });
  });

  app.get('/v1/cards/:cardId', async (req) => {
    const binding = store.getBinding(cardIdParam(req));
    if (binding === undefined) throw new HesGateError('HG_NOT_FOUND', 'this card is not bound');
    return masked(binding);
  });

  app.delete('/v1/cards/:cardId', async (req, reply) => {
    const cardId = cardIdParam(req);
    const removed = await writer.adminDelete(cardId, WHO);
    if (removed === undefined) throw new HesGateError('HG_NOT_FOUND', 'this card is not bound');
    onChange?.({ action: 'delete', cardId, hesCode: removed.hesCode });
    return reply.code(204).send();
  });

  // The import's body is never parsed here: every accepted type reaches the handler as the raw
  // stream (this scope only, so PUT keeps the service's JSON parser).
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser([...FORMATS.keys()], (_req, payload, done) => done(null, payload));
    scope.post('/v1/cards/import', async (req) => {
      const format = formatOf(req.headers['content-type']);
      const declared = Number(req.headers['content-length']);
      if (declared > bodyLimit) throw new HesGateError('HG_BODY_TOO_LARGE', `request body is too large (at most ${bodyLimit} bytes)`);
      if (req.body === undefined || req.body === null) {
        throw new HesGateError('HG_BAD_REQUEST', 'expected application/x-ndjson lines, text/csv, or a JSON array of {"cardId", "hesCode", "profile"?} objects');
      }
      const report = await writer.importStream(limited(req.body as AsyncIterable<Uint8Array>, bodyLimit), { format, batchSize, journalAs: WHO });
      if (report.created + report.updated > 0) {
        onChange?.({ action: 'import', imported: report.imported, created: report.created, updated: report.updated, rejected: report.rejected });
      }
      return report;
    });
  });
}

/** Content types of an import body and the format each means (a Map: the type is the client's text). */
const FORMATS: ReadonlyMap<string, StreamFormat> = new Map([
  ['application/x-ndjson', 'ndjson'],
  ['application/ndjson', 'ndjson'],
  ['text/csv', 'csv'],
  ['application/json', 'json'],
]);

function formatOf(contentType: string | undefined): StreamFormat {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return FORMATS.get(type) ?? 'ndjson';
}

/**
 * The body, cut off with 413 past `limit` bytes (a body without a length is counted as it
 * comes; the batches committed before the limit stay, as for any interrupted import).
 */
async function* limited(body: AsyncIterable<Uint8Array>, limit: number): AsyncIterable<Uint8Array> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.byteLength;
    if (seen > limit) throw new HesGateError('HG_BODY_TOO_LARGE', `request body is too large (at most ${limit} bytes)`);
    yield chunk;
  }
}
