/**
 * The OpenAPI 3.1 description of the HTTP API, served at `GET /openapi.json`.
 *
 * @fastify/swagger collects every route as it is registered (so this plugin is registered before
 * the routes) and takes each route's own schema: the decision route validates with its schema,
 * so what is documented is what is enforced. Routes that check their input in code (the card
 * admin API, operations, the live page) get a documentation-only schema here, keyed by method
 * and URL; test/http/openapi.test.ts checks real answers of every route against this document.
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { Secret } from '../config/sensitive-value.js';
import { CARD_ID_PATTERN } from '../credentials/card-id.js';
import { PROFILE_PATTERN } from '../policy/card-profile.js';
import { anyTokenGuard } from './auth.js';

export interface OpenApiOptions {
  version: string;
  /** The configured tokens (admin, API): with any of them set, the document needs one. */
  tokens?: ReadonlyArray<Secret | null>;
}

const errorBody = {
  type: 'object',
  description: 'A coded error (codes: README "Error codes")',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', pattern: '^HG_[A-Z_]+$' }, message: { type: 'string' } },
    },
  },
} as const;

const maskedBinding = {
  type: 'object',
  required: ['cardId', 'hesCode', 'profile', 'updatedAt'],
  additionalProperties: false,
  properties: {
    cardId: { type: 'string', pattern: CARD_ID_PATTERN.source, description: 'canonical card id (upper-case hex)' },
    hesCode: { type: 'string', description: 'masked, e.g. A1B2-****-**' },
    profile: { type: 'string' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const cardIdParams = {
  type: 'object',
  required: ['cardId'],
  properties: { cardId: { type: 'string', description: 'hex card id, `:`, `-` or spaces allowed between bytes' } },
} as const;

const importRecord = {
  type: 'object',
  properties: {
    cardId: { type: 'string' },
    card_id: { type: 'string' },
    hesCode: { type: 'string' },
    hes_code: { type: 'string' },
    profile: { type: ['string', 'null'] },
  },
} as const;

const importReport = {
  type: 'object',
  required: ['format', 'linesRead', 'imported', 'created', 'updated', 'unchanged', 'rejected', 'rejectedByReason', 'rejections', 'rejectionsTruncated', 'aborted', 'durationMs'],
  properties: {
    format: { type: 'string', enum: ['csv', 'ndjson', 'json'] },
    linesRead: { type: 'integer' },
    imported: { type: 'integer' },
    created: { type: 'integer' },
    updated: { type: 'integer' },
    unchanged: { type: 'integer' },
    rejected: { type: 'integer' },
    rejectedByReason: { type: 'object', additionalProperties: { type: 'integer' } },
    rejections: { type: 'array', items: { type: 'object', required: ['line', 'reason'], properties: { line: { type: 'integer' }, reason: { type: 'string' } } } },
    rejectionsTruncated: { type: 'boolean' },
    aborted: { type: 'boolean' },
    durationMs: { type: 'number' },
  },
} as const;

const readiness = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not-ready'] },
    checks: { type: 'object', additionalProperties: { type: 'object', required: ['ok', 'detail'], properties: { ok: { type: 'boolean' }, detail: { type: 'string' } } } },
  },
} as const;

const device = {
  type: 'object',
  required: ['id', 'role', 'gates', 'path', 'profile', 'state', 'since', 'reopens', 'failedAttempts', 'count', 'dropped'],
  properties: {
    id: { type: 'string' },
    role: { type: 'string' },
    gates: { type: 'array', items: { type: 'string' } },
    path: { type: 'string' },
    profile: { type: 'string' },
    state: { type: 'string' },
    since: { type: 'number', description: 'epoch ms of the last state change' },
    lastError: { type: 'string' },
    reopens: { type: 'integer' },
    failedAttempts: { type: 'integer' },
    count: { type: 'integer' },
    dropped: { type: 'object', additionalProperties: { type: 'integer' } },
    lastFeedback: { type: 'string' },
    lastCommandError: { type: 'string' },
  },
} as const;

const text = (type: string, description: string): object => ({ description, content: { [type]: { schema: { type: 'string' } } } });
const bearer = [{ bearer: [] }];

/** Documentation for routes that validate in code; `METHOD url` as registered. */
const DOCUMENTED: Record<string, FastifySchema & Record<string, unknown>> = {
  'GET /healthz': { tags: ['operations'], summary: 'the process is alive', response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } } },
  'GET /readyz': { tags: ['operations'], summary: 'able to decide (200) or not (503), with each check', response: { 200: readiness, 503: readiness } },
  'GET /metrics': { tags: ['operations'], summary: 'Prometheus metrics', response: { 200: text('text/plain', 'Prometheus text format') } },
  'GET /v1/devices': {
    tags: ['devices'],
    summary: 'serial readers and gate controllers and their state',
    response: { 200: { type: 'object', required: ['devices'], properties: { devices: { type: 'array', items: device } } } },
  },
  'GET /live': { tags: ['live'], summary: 'the operators\' live page', response: { 200: text('text/html', 'the page (holds no data)') } },
  'GET /live/:script': { tags: ['live'], summary: 'the live page\'s script modules (app.js and those it imports)', response: { 200: text('text/javascript', 'script') } },
  'GET /live/app.css': { tags: ['live'], summary: 'the live page\'s stylesheet', response: { 200: text('text/css', 'stylesheet') } },
  'GET /v1/live/events': {
    tags: ['live'],
    summary: 'the live page\'s event stream (Server-Sent Events); the admin token when one is set',
    security: bearer,
    response: { 200: text('text/event-stream', 'status, decision, tap and ministry events') },
  },
  'PUT /v1/cards/:cardId': {
    tags: ['cards'],
    summary: 'bind a card to a HES code',
    security: bearer,
    params: cardIdParams,
    body: {
      type: 'object',
      required: ['hesCode'],
      additionalProperties: false,
      properties: { hesCode: { type: 'string', description: '10 letters or digits, dashes and spaces allowed' }, profile: { type: 'string', pattern: PROFILE_PATTERN.source } },
    },
    response: {
      201: { description: 'created', ...withOutcome(['created']) },
      200: { description: 'updated, or already so', ...withOutcome(['updated', 'unchanged']) },
    },
  },
  'GET /v1/cards/:cardId': { tags: ['cards'], summary: 'a card\'s binding, masked', security: bearer, params: cardIdParams, response: { 200: maskedBinding } },
  'DELETE /v1/cards/:cardId': { tags: ['cards'], summary: 'unbind a card', security: bearer, params: cardIdParams, response: { 204: { description: 'unbound', type: 'null' } } },
  'POST /v1/cards/import': {
    tags: ['cards'],
    summary: 'import bindings: NDJSON lines or a JSON array',
    security: bearer,
    body: {
      content: {
        'application/json': { schema: { type: 'array', items: importRecord } },
        'application/x-ndjson': { schema: { type: 'string', description: 'one JSON object per line, as the JSON array\'s items' } },
      },
    },
    response: { 200: importReport },
  },
  'GET /v1/vehicle-list/head': {
    tags: ['vehicles'],
    summary: 'the signed head of the vehicle list: the newest version, its snapshot and the kept deltas; with ?after=V only the deltas that lead on from version V (a hub; the vehicle\'s token)',
    security: bearer,
    response: {
      200: {
        type: 'object',
        required: ['head', 'signature'],
        properties: { head: { type: 'object', description: 'ListHead (src/vehicles/list/types.ts)' }, signature: { type: 'string', description: 'Ed25519 over the exact JSON text of head, base64url' } },
      },
    },
  },
  'GET /v1/vehicle-list/files/:name': {
    tags: ['vehicles'],
    summary: 'an immutable, content-addressed list file; Range requests answer 206 (416 outside the file)',
    security: bearer,
    params: { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[0-9a-f]{64}\\.hgvl$' } } },
    response: { 200: text('application/octet-stream', 'the whole file'), 206: text('application/octet-stream', 'the range asked for') },
  },
};

function withOutcome(outcomes: string[]): object {
  return {
    ...maskedBinding,
    required: [...maskedBinding.required, 'outcome'],
    properties: { ...maskedBinding.properties, outcome: { type: 'string', enum: outcomes } },
  };
}

/** Tags and security for routes that carry their own schema. */
const ANNOTATIONS: Record<string, Record<string, unknown>> = {
  'POST /v1/decisions': { tags: ['decisions'], summary: 'decide on one credential for a gate', security: bearer },
  'POST /v1/vehicles/reports': { tags: ['vehicles'], summary: 'a vehicle\'s store-and-forward upload: its journal records (journaled as <vehicle>/<gate>) and counters', security: bearer },
};

/** Register before the routes: the document is built from routes registered after this. */
export async function registerOpenApi(app: FastifyInstance, opts: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'hes-gate',
        version: opts.version,
        description: 'Fare-gate verification at a station: decisions, card bindings, devices and operations.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: ({ schema, url, route }) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const key = `${methods.find((m) => m !== 'HEAD') ?? methods[0]} ${url}`;
      const own = schema ?? DOCUMENTED[key] ?? {};
      const response = { ...((own.response as Record<string, unknown> | undefined) ?? {}), '4XX': errorBody, '5XX': errorBody };
      return { schema: { ...own, ...ANNOTATIONS[key], response } as FastifySchema, url };
    },
  });
  // The document is what README.md says, but a station need not describe itself (its version,
  // its routes) to strangers: with any token configured, it takes one (admin or API).
  app.get('/openapi.json', { schema: { hide: true }, onRequest: anyTokenGuard(opts.tokens ?? [], 'API description') }, async () => app.swagger());
}
