/**
 * The HTTP side of hes-gate as a fastify instance: decisions, operations and (when the card
 * store is open) card administration. Errors leave as `{"error":{"code","message"}}` with the
 * codes of src/errors.ts; nothing else about the failure reaches the client.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { HesGateError, ERRORS } from '../errors.js';
import type { Logger } from '../ops/logger.js';

export interface HttpAppOptions {
  bodyLimitBytes: number;
  logger: Logger;
}

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export function createHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'http' }),
    // No per-request child logger (request logging is off): less work and garbage per tap.
    childLoggerFactory: (logger) => logger,
    // Per-request logs would be one line per tap: decisions are counted in metrics instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false } },
  });

  // JSON only: a text body is refused with 415 rather than failing validation as a string.
  app.removeContentTypeParser('text/plain');

  app.decorateRequest('arrivedAt', 0);
  app.addHook('onRequest', (req, _reply, done) => {
    (req as unknown as { arrivedAt: number }).arrivedAt = performance.now();
    done();
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody('HG_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });

  app.setErrorHandler((err: FastifyError | HesGateError, req, reply) => {
    if (err instanceof HesGateError) {
      if (err.status >= 500) req.log.error({ code: err.code, msg: err.message }, 'request failed');
      return reply.code(err.status).send(errorBody(err.code, err.message));
    }
    if (err.validation !== undefined) {
      const first = err.validation[0];
      const field = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : (first?.params as { missingProperty?: string; additionalProperty?: string } | undefined)?.missingProperty;
      const extra = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
      const message = extra !== undefined
        ? `unexpected field "${extra.slice(0, 32)}": expected {"gate", and one of "hesCode", "qr", "card"}`
        : `${field ? `"${field}" ` : ''}${first?.message ?? 'is invalid'}; expected {"gate": string, and one of "hesCode", "qr", "card": string}`;
      return reply.code(400).send(errorBody('HG_BAD_REQUEST', message));
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(errorBody('HG_BODY_TOO_LARGE', 'request body is too large'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send(errorBody('HG_UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json'));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send(errorBody('HG_BAD_REQUEST', 'request body is empty; expected a JSON object'));
      default:
        break;
    }
    if (err.statusCode === 400) {
      return reply.code(400).send(errorBody('HG_BAD_REQUEST', 'request body is not valid JSON'));
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(errorBody('HG_BAD_REQUEST', err.message));
    }
    req.log.error({ err }, 'unexpected error');
    return reply.code(500).send(errorBody('HG_INTERNAL', ERRORS.HG_INTERNAL.description));
  });

  // pino's Logger type is narrower than fastify's generic logger slot; the instance is the same.
  return app as unknown as FastifyInstance;
}
