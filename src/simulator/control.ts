/**
 * The simulator's control API, for rehearsal scripts and tests. Never subject to faults.
 * It can make the "ministry" answer anything, so it answers only a loopback peer that sends the
 * simulator's control token (`Authorization: Bearer <token>`); without a configured token it is
 * off. Tokens are compared in constant time.
 *
 *   GET  /_simulator/faults          current knobs        PUT /_simulator/faults   {knob: value, …}
 *   GET  /_simulator/counts          request counts       POST /_simulator/counts/reset
 *   GET  /_simulator/codes           known codes          PUT|DELETE /_simulator/codes/<code>
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { weakTokenError } from '../config/token-rule.js';
import type { Faults } from './faults.js';
import { readBody } from './http.js';
import type { SampleCode } from './sample-codes.js';

/** What the control API reads and changes on a running simulator (server.ts's `Simulator` has it). */
export interface SimulatorControls {
  readonly faults: Faults;
  setFaults(partial: Partial<Faults>): Faults;
  counts(): unknown;
  resetCounts(): void;
  setCode(code: string, sample: Omit<SampleCode, 'code'> & { code?: string }): void;
  removeCode(code: string): boolean;
  codes(): SampleCode[];
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = value === undefined ? '' : JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Runs `apply` on the JSON body; a bad body or a TypeError from `apply` is a 400. */
function withJson(req: IncomingMessage, res: ServerResponse, apply: (body: unknown) => unknown): void {
  readBody(req, res, (text) => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      json(res, 400, { error: 'the body must be JSON' });
      return;
    }
    try {
      json(res, 200, apply(body));
    } catch (err) {
      json(res, 400, { error: (err as Error).message });
    }
  });
}

function isLoopbackPeer(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** A guessable token would make the control API open to anyone on the machine: the one token rule (HG_TOKEN_WEAK). */
export function checkControlToken(token: string): void {
  const weak = weakTokenError('HES_GATE_SIMULATOR_TOKEN', 'simulator.controlToken', token);
  if (weak !== null) throw weak;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Equal-length digests, so the comparison takes the same time whatever was sent. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const sent = header?.startsWith('Bearer ') === true ? header.slice(7) : '';
  return timingSafeEqual(digest(sent), digest(token));
}

export function handleControl(sim: SimulatorControls, req: IncomingMessage, res: ServerResponse, path: string, token: string | undefined): void {
  const method = req.method ?? 'GET';
  if (!isLoopbackPeer(req.socket.remoteAddress)) {
    req.resume();
    return json(res, 403, { error: 'the control API answers loopback clients only' });
  }
  if (token === undefined) {
    req.resume();
    return json(res, 401, { error: 'the control API is off: start the simulator with a control token (HES_GATE_SIMULATOR_TOKEN)' });
  }
  if (!tokenMatches(req.headers.authorization, token)) {
    req.resume();
    return json(res, 401, { error: 'the control API needs the simulator control token (Authorization: Bearer <token>)' });
  }
  if (path === '/_simulator/faults') {
    if (method === 'GET') return json(res, 200, sim.faults);
    if (method === 'PUT') return withJson(req, res, (body) => sim.setFaults(body as Partial<Faults>));
  } else if (path === '/_simulator/counts') {
    if (method === 'GET') return json(res, 200, sim.counts());
  } else if (path === '/_simulator/counts/reset') {
    if (method === 'POST') {
      req.resume();
      sim.resetCounts();
      return json(res, 200, sim.counts());
    }
  } else if (path === '/_simulator/codes') {
    if (method === 'GET') return json(res, 200, sim.codes());
  } else if (path.startsWith('/_simulator/codes/')) {
    let code: string;
    try {
      code = decodeURIComponent(path.slice('/_simulator/codes/'.length));
    } catch {
      req.resume();
      return json(res, 400, { error: 'the code in the path is not valid URL encoding' });
    }
    if (method === 'PUT') {
      return withJson(req, res, (body) => {
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new TypeError('the body must be a sample code object');
        sim.setCode(code, body as Parameters<SimulatorControls['setCode']>[1]);
        return sim.codes().find((c) => c.code === code);
      });
    }
    if (method === 'DELETE') {
      req.resume();
      return sim.removeCode(code) ? json(res, 200, { removed: code }) : json(res, 404, { error: 'no such code' });
    }
  } else {
    req.resume();
    return json(res, 404, { error: 'no such control path (see /_simulator/faults, /_simulator/counts, /_simulator/codes)' });
  }
  req.resume();
  json(res, 405, { error: `method ${method} not allowed here` });
}
