import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HesGateError } from '../../errors.js';
import type { CredentialKind } from '../../types.js';
import type { DecisionService } from '../../decisions/decision-service.js';
import { SOURCES } from '../../policy/decide.js';
import type { Clock } from '../../types.js';
import type { Secret } from '../../config/sensitive-value.js';
import { bearerGuard } from '../auth.js';
import type { Admission } from '../admission.js';
import { errorBody } from '../error-replies.js';

interface DecisionBody {
  gate: string;
  hesCode?: string;
  qr?: string;
  card?: string;
}

/** The request schema (exported so the benchmark's bare-fastify baseline validates the same way). */
export const bodySchema = {
  type: 'object',
  required: ['gate'],
  additionalProperties: false,
  properties: {
    gate: { type: 'string', minLength: 1, maxLength: 64 },
    hesCode: { type: 'string', maxLength: 64 },
    qr: { type: 'string', maxLength: 512 },
    card: { type: 'string', maxLength: 64 },
  },
} as const;

export const responseSchema = {
  200: {
    type: 'object',
    properties: {
      verdict: { type: 'string' },
      reason: { type: 'string' },
      source: { type: 'string', enum: SOURCES },
      decisionId: { type: 'string' },
      elapsedMs: { type: 'number' },
    },
  },
} as const;

export interface DecisionRoutesOptions {
  decisions: DecisionService;
  clock: Clock;
  apiToken: Secret | null;
  /** Sheds decisions under overload; without it every request is admitted. */
  admission?: Admission;
}

const SHED_MESSAGE = {
  'event-loop': 'the service is overloaded (its event loop is running late); retry, or apply the offline rule',
  'loop-busy': 'the service is overloaded (its event loop is saturated); retry, or apply the offline rule',
  'in-flight': 'the service is overloaded (too many decisions in flight); retry, or apply the offline rule',
} as const;

/** `POST /v1/decisions`: one credential in, a verdict out, always inside the gate's deadline. */
export async function decisionRoutes(app: FastifyInstance, opts: DecisionRoutesOptions): Promise<void> {
  const guard = opts.apiToken === null ? undefined : bearerGuard(opts.apiToken, 'decision API');
  const admission = opts.admission;
  // Before the body is read or parsed: a shed request costs as little as it can.
  const admit = admission === undefined ? undefined : (_req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const shed = admission.admit();
    if (shed === null) {
      // Counted from admission, not from the handler: a burst is admitted before any body is parsed.
      reply.raw.on('close', admission.leave);
      done();
    } else void reply.code(503).header('retry-after', '1').send(errorBody('HG_OVERLOADED', SHED_MESSAGE[shed]));
  };
  const onRequest = [guard, admit].filter((h) => h !== undefined);
  app.post<{ Body: DecisionBody }>(
    '/v1/decisions',
    { schema: { body: bodySchema, response: responseSchema }, onRequest },
    // Not async: a cache hit is answered in this tick, with no promise (fastify sends a value
    // returned synchronously, and a thrown error goes to the error handler either way).
    (req) => {
      const body = req.body;
      let kind: CredentialKind | undefined;
      let value: string | undefined;
      let given = 0;
      if (body.hesCode !== undefined) {
        kind = 'hes';
        value = body.hesCode;
        given++;
      }
      if (body.qr !== undefined) {
        kind = 'qr';
        value = body.qr;
        given++;
      }
      if (body.card !== undefined) {
        kind = 'card';
        value = body.card;
        given++;
      }
      if (given > 1) {
        throw new HesGateError('HG_BAD_REQUEST', 'body must carry exactly one credential: "hesCode", "qr" or "card", got more than one');
      }
      if (kind === undefined || value === undefined) {
        throw new HesGateError('HG_BAD_REQUEST', 'body must carry exactly one credential: "hesCode", "qr" or "card"');
      }
      // The request's arrival time: parsing and validation count against the deadline.
      const result = opts.decisions.decideNow({ kind, value, gate: body.gate, at: opts.clock() }, req.arrivedAt);
      return result instanceof Promise ? result : orUnknownGate(result);
    },
  );
}

function orUnknownGate<T>(result: T | undefined): T {
  if (result === undefined) {
    throw new HesGateError('HG_GATE_UNKNOWN', 'the gate is not configured, and gates.requireKnown refuses unknown gates');
  }
  return result;
}
