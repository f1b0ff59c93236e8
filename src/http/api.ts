/**
 * Every route group of the HTTP API on one app, each with the token it needs (README's API
 * table): the operations routes, decisions, the live page, the decision journal, card
 * administration and the OpenAPI document.
 *
 *   /healthz /readyz /metrics /v1/devices  ops        (devices: admin or API token)
 *   POST /v1/decisions                     decisions  (API token)
 *   /live …                                live       (the operator token: admin, else API)
 *   /v1/journal …                          journal    (admin token)
 *   /v1/cards …                            cards      (admin token)
 *   /v1/vehicle-list … /v1/vehicles/reports vehicles  (a hub publishing the vehicle list: each vehicle's token)
 */
import type { FastifyInstance } from 'fastify';
import type { Secret } from '../config/sensitive-value.js';
import type { Clock } from '../types.js';
import { operatorToken } from './auth.js';
import { registerOpenApi } from './openapi.js';
import { cardRoutes, type CardRoutesOptions } from './routes/cards.js';
import { decisionRoutes, type DecisionRoutesOptions } from './routes/decisions.js';
import { journalRoutes, type JournalRoutesOptions } from './routes/journal.js';
import { liveRoutes, type LiveRoutesOptions } from './routes/live.js';
import { opsRoutes, type OpsRoutesOptions } from './routes/ops.js';
import { vehicleRoutes, type VehicleRoutesOptions } from './routes/vehicles.js';

export interface ApiOptions {
  /** The service's version, for the OpenAPI document. */
  version: string;
  clock: Clock;
  /** The station's id, named in journal exports. */
  station: string;
  tokens: { admin: Secret | null; api: Secret | null };
  ops: Omit<OpsRoutesOptions, 'deviceTokens'>;
  decisions: Omit<DecisionRoutesOptions, 'clock' | 'apiToken'>;
  live: Omit<LiveRoutesOptions, 'token'>;
  journal: JournalRoutesOptions['journal'];
  cards: Omit<CardRoutesOptions, 'adminToken'>;
  /** A hub publishing the vehicle list (vehicles.enabled); absent elsewhere. */
  vehicles?: VehicleRoutesOptions;
}

export async function registerApi(app: FastifyInstance, o: ApiOptions): Promise<void> {
  const { admin, api } = o.tokens;
  await registerOpenApi(app, { version: o.version, tokens: [admin, api] });
  await app.register(opsRoutes, { ...o.ops, deviceTokens: [admin, api] });
  await app.register(decisionRoutes, { ...o.decisions, clock: o.clock, apiToken: api });
  await app.register(liveRoutes, { ...o.live, token: operatorToken({ adminToken: admin, apiToken: api }) });
  await app.register(journalRoutes, { journal: o.journal, adminToken: admin, clock: o.clock, station: o.station });
  await app.register(cardRoutes, { ...o.cards, adminToken: admin?.reveal() });
  if (o.vehicles !== undefined) await app.register(vehicleRoutes, o.vehicles);
}
