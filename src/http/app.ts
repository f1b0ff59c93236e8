/**
 * The HTTP side of hes-gate as a fastify instance: decisions, operations and (when the card
 * store is open) card administration. Errors leave as `{"error":{"code","message"}}` with the
 * codes of src/errors.ts (see error-replies.ts); nothing else about the failure reaches the client.
 *
 * Connection limits bound what a slow or hostile client can hold: headers and the whole request
 * must arrive within their timeouts, an idle socket is closed, the number of connections (in all
 * and per client address, connection-guard.ts) and the size of the header block are capped (see
 * docs/overload.md).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from '../ops/logger.js';
import { guardConnections, type ConnectionRefusals } from './connection-guard.js';
import { onCheckExpectation, onClientError, onConnect, replyFrameworkError, replyNotFound, replyWithError } from './error-replies.js';

/** Where the 'request' listener leaves the arrival time on node's request object. */
const ARRIVED = Symbol('hes-gate.arrivedAt');

declare module 'node:http' {
  interface IncomingMessage {
    [ARRIVED]?: number;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Monotonic ms (performance.now) when the event loop began reading the batch of requests
     * this one came in (see `stampArrival`): for a request alone in its turn of the loop, when
     * node handed its parsed request line and headers over.
     */
    arrivedAt: number;
  }
  interface FastifyInstance {
    /** Connections refused so far, per address and by node's total cap (read by the metrics). */
    connectionRefusals: ConnectionRefusals;
  }
}

export interface ConnectionLimits {
  /** The whole request (headers and body) must arrive within this, ms. @default 10000 */
  requestTimeoutMs: number;
  /** The request line and headers must arrive within this, ms (≤ requestTimeoutMs). @default 5000 */
  headersTimeoutMs: number;
  /** A socket with no traffic for this long is closed, ms. @default 60000 */
  idleTimeoutMs: number;
  /** Open connections beyond this are closed at once. @default 1024 */
  maxConnections: number;
  /** Open connections one client address (an IPv6 /64) may hold; loopback is not limited. @default 64 */
  maxConnectionsPerAddress: number;
  /** Largest request line plus headers, bytes (431 beyond). @default 8192 */
  maxHeaderBytes: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  maxConnections: 1024,
  maxConnectionsPerAddress: 64,
  maxHeaderBytes: 8192,
};

/**
 * How long node waits after an answer for the next request (keepAliveTimeout), and the margin it
 * adds before closing (keepAliveTimeoutBuffer, 1 s by default since node 24.6), so that the
 * socket closes at `idleTimeoutMs` while clients are told (`Keep-Alive: timeout=`) slightly less
 * and do not send into a closing socket. fastify's own default is 72 s: `limits.idleTimeoutMs`
 * did not apply to keep-alive connections until this was set (issue 20).
 */
export function keepAlive(idleTimeoutMs: number): { timeoutMs: number; bufferMs: number } {
  const bufferMs = Math.min(1000, Math.floor(idleTimeoutMs / 10));
  return { timeoutMs: idleTimeoutMs - bufferMs, bufferMs };
}

export interface HttpAppOptions {
  bodyLimitBytes: number;
  logger: Logger;
  limits?: ConnectionLimits;
}

export function createHttpApp(opts: HttpAppOptions): FastifyInstance {
  const limits = opts.limits ?? DEFAULT_CONNECTION_LIMITS;
  const idle = keepAlive(limits.idleTimeoutMs);
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'http' }),
    // No per-request child logger (request logging is off): less work and garbage per tap.
    childLoggerFactory: (logger) => logger,
    // Per-request logs would be one line per tap: decisions are counted in metrics instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: idle.timeoutMs,
    http: {
      keepAliveTimeoutBuffer: idle.bufferMs,
      headersTimeout: limits.headersTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      // node checks request and header timeouts on this interval (30 s by default): a tenth of
      // the shorter timeout closes a slow client within 10 % of its configured time.
      connectionsCheckingInterval: Math.max(50, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)),
    },
    clientErrorHandler: onClientError,
    frameworkErrors: replyFrameworkError,
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false } },
  });
  app.server.maxConnections = limits.maxConnections;
  app.server.on('checkExpectation', onCheckExpectation);
  app.server.on('connect', onConnect);
  app.decorate('connectionRefusals', guardConnections(app.server, limits.maxConnectionsPerAddress));

  stampArrival(app.server);
  // JSON only: a text body is refused with 415 rather than failing validation as a string.
  app.removeContentTypeParser('text/plain');

  // A getter, not an onRequest hook: a hook makes fastify run its hook chain on every request.
  app.decorateRequest('arrivedAt', {
    getter(this: FastifyRequest): number {
      return this.raw[ARRIVED] ?? performance.now();
    },
  });

  app.setNotFoundHandler(replyNotFound);
  app.setErrorHandler(replyWithError);

  // pino's Logger type is narrower than fastify's generic logger slot; the instance is the same.
  return app as unknown as FastifyInstance;
}

/**
 * Stamps each request with when it was, at the latest, waiting to be read: the moment the event
 * loop began reading the batch of requests it came in. One turn of the loop reads every socket
 * that became readable while the turn before ran, one request after another; the last of a
 * batch of 600 was already waiting while the 599 before it were parsed and decided, and its
 * deadline counts that wait. The first request of a turn marks the batch's start, and the check
 * phase that follows the reading (a `setImmediate`, one per turn that reads requests) ends it;
 * a request alone in its turn is stamped when node hands it over, as before.
 *
 * fastify's own listener is wrapped rather than a second one added: with two listeners node
 * copies the listener array on every request.
 */
export function stampArrival(server: Server): void {
  let batchStart = 0;
  let inBatch = false;
  const endBatch = (): void => {
    inBatch = false;
  };
  const stamp = (raw: IncomingMessage): void => {
    if (!inBatch) {
      inBatch = true;
      batchStart = performance.now();
      setImmediate(endBatch);
    }
    raw[ARRIVED] = batchStart;
  };
  const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  if (listeners.length !== 1) {
    server.prependListener('request', stamp);
    return;
  }
  const route = listeners[0]!;
  server.removeListener('request', route);
  server.on('request', (raw: IncomingMessage, res: ServerResponse) => {
    stamp(raw);
    route(raw, res);
  });
}

/**
 * Closes the app for shutdown: requests in flight are answered, and keep-alive clients, which
 * hold connections open after their last answer, have each connection closed as it goes idle —
 * so shutdown waits for requests in flight, not for clients' idle sockets.
 */
export async function closeHttpApp(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 25);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}
