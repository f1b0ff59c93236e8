/**
 * Request logging, off by default (log.requests): one line per request with the method, the
 * route's pattern, the status and the time taken. The pattern (`/v1/cards/:cardId`), never the
 * URL: a URL can hold a card id, and a query string anything.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../ops/logger.js';
import type { LogEvent } from '../ops/log-events.js';

const EVENT: LogEvent = 'request';

/** Adds the hook; call before the routes are registered. */
export function logRequests(app: FastifyInstance, logger: Logger): void {
  app.addHook('onResponse', (req, reply, done) => {
    logger.info({ event: EVENT, method: req.method, route: req.routeOptions.url ?? '(no route)', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    done();
  });
}
