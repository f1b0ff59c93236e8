/**
 * How failures leave the HTTP API: always `{"error":{"code","message"}}` with a code of
 * src/errors.ts, and never a piece of the request (path, field name, header, body) in the
 * message — an error body is read by whoever sent the request, logged by proxies, and a card
 * id in a URL is personal data. The three entry points are fastify's error handler (routes,
 * validation, body parsing), its framework errors (URL the router cannot take) and node's
 * `clientError` (header overflow, timeouts, garbage before a request exists); and node's
 * `checkExpectation` and `connect`, which node would answer empty or not at all.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, HesGateError, type ErrorCode } from '../errors.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

const DECISION_SHAPE = '{"gate": string, and one of "hesCode", "qr", "card": string}';

/** The schema's own names for what failed: property names come from the schema, never the body. */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  if (first === undefined) return `the body is invalid; expected ${DECISION_SHAPE}`;
  if (first.keyword === 'additionalProperties') return `unexpected field (not named: it is the sender's text); expected ${DECISION_SHAPE}`;
  const missing = (first.params as { missingProperty?: unknown }).missingProperty;
  const field = first.instancePath !== '' ? first.instancePath.slice(1).replace(/\//g, '.') : typeof missing === 'string' ? missing : '';
  // instancePath names only schema properties here: unknown ones fail additionalProperties first.
  return `${field !== '' ? `"${field}" ` : ''}${first.message ?? 'is invalid'}; expected ${DECISION_SHAPE}`;
}

/** fastify's error handler: every route error, validation failure and body-parser failure. */
export function replyWithError(err: FastifyError | HesGateError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof HesGateError) {
    if (err.status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(err.status).send(errorBody(err.code, err.message));
  }
  if (err.validation !== undefined) return reply.code(400).send(errorBody('HG_BAD_REQUEST', validationMessage(err)));
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
  if (err.statusCode === 400) return reply.code(400).send(errorBody('HG_BAD_REQUEST', 'request body is not valid JSON'));
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    // fastify's own 4xx messages quote the input (a header, a content type): say only the status.
    return reply.code(err.statusCode).send(errorBody('HG_BAD_REQUEST', `the request was refused (${http.STATUS_CODES[err.statusCode] ?? err.statusCode})`));
  }
  req.log.error({ err }, 'unexpected error');
  return reply.code(500).send(errorBody('HG_INTERNAL', ERRORS.HG_INTERNAL.description));
}

/** No route: the method and path are not repeated (a card id travels in paths). */
export function replyNotFound(_req: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send(errorBody('HG_NOT_FOUND', 'no such route; see the API in README.md'));
}

/** URLs the router refuses before any route runs (a malformed escape, a path segment too long). */
export function replyFrameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(414).send(errorBody('HG_URI_TOO_LONG', 'a path segment of the URL is too long'));
    return;
  }
  void reply.code(400).send(errorBody('HG_BAD_REQUEST', 'the URL is not valid'));
}

/** What node's HTTP parser refused, before a request object exists. */
function clientErrorReply(err: NodeJS.ErrnoException): [number, ErrorCode, string] | null {
  switch (err.code) {
    case 'ECONNRESET':
      return null;
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'HG_HEADERS_TOO_LARGE', 'the request line and headers are larger than limits.maxHeaderBytes'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'HG_REQUEST_TIMEOUT', 'the request was not received in time (limits.headersTimeoutMs / limits.requestTimeoutMs)'];
    default:
      return [400, 'HG_BAD_REQUEST', 'the request is not valid HTTP/1.1'];
  }
}

/** A whole HTTP/1.1 error answer, for a socket no response object owns: coded, and closing the connection. */
export function rawErrorResponse(status: number, code: ErrorCode, message: string, extraHeaders = ''): string {
  const body = JSON.stringify(errorBody(code, message));
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n${extraHeaders}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * node's `clientError`: answer in the service's format when nothing of a response was sent yet
 * (as node itself would, but coded), then close: the connection's framing can no longer be trusted.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket & { _httpMessage?: { headersSent?: boolean } }): void {
  const reply = clientErrorReply(err);
  if (reply !== null && !socket.destroyed && socket.writable && socket._httpMessage?.headersSent !== true) {
    socket.write(rawErrorResponse(...reply));
  }
  socket.destroy();
}

/**
 * node's `checkExpectation`: an `Expect` header other than `100-continue`. Without a listener node
 * answers an empty 417; this one answers it in the service's format (the header is not repeated).
 */
export function onCheckExpectation(_req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify(errorBody('HG_EXPECTATION_FAILED', 'the Expect header is not supported (only "100-continue" is)'));
  res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/** What this service answers; a CONNECT (a proxy's method) gets them in `Allow`. */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, DELETE';

/**
 * node's `connect`: a CONNECT request. Without a listener node closes the connection without a
 * word; hes-gate is not a proxy, and says so with a coded 405, then closes.
 */
export function onConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  socket.end(rawErrorResponse(405, 'HG_METHOD_NOT_ALLOWED', 'CONNECT is not answered here: hes-gate is not a proxy', `Allow: ${ALLOWED_METHODS}\r\n`), () => socket.destroy());
}
