/** Small HTTP helpers shared by the simulator's ministry paths and its control API. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpProblem } from './answers.js';

/** Largest request body accepted, in bytes (a full bulk request, MINISTRY_BULK_LIMIT codes, is about 13 KB). */
const BODY_LIMIT = 4 * 1024 * 1024;
export const JSON_TYPE = 'application/json;charset=UTF-8';

export function send(res: ServerResponse, status: number, body: string, type = JSON_TYPE, extra?: Record<string, string>): void {
  const headers: Record<string, string | number> = { 'content-type': type, 'content-length': Buffer.byteLength(body) };
  if (extra !== undefined) Object.assign(headers, extra);
  res.writeHead(status, headers);
  res.end(body);
}

/** Collects a request body as text; answers 413 and gives up past BODY_LIMIT. */
export function readBody(req: IncomingMessage, res: ServerResponse, done: (text: string) => void): void {
  let text = '';
  let tooLarge = false;
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    if (tooLarge) return;
    text += chunk;
    if (text.length > BODY_LIMIT) {
      tooLarge = true;
      send(res, 413, httpProblem(413, 'Payload Too Large', `bodies are limited to ${BODY_LIMIT} bytes`, req.url ?? ''), JSON_TYPE, { connection: 'close' });
    }
  });
  req.on('end', () => {
    if (!tooLarge) done(text);
  });
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

