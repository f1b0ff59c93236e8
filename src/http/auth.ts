import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HesGateError } from '../errors.js';
import { Secret } from '../config/sensitive-value.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Compare a presented token with the expected one's SHA-256 digest in constant time: hashing
 * first gives equal lengths, so neither the token's content nor its length shows in the timing.
 */
export function tokenMatches(presented: string, expectedDigest: Buffer): boolean {
  const ok = timingSafeEqual(digest(presented), expectedDigest);
  return ok && presented.length > 0;
}

/** The token of an `Authorization: Bearer <token>` header (scheme in any case), or ''. */
function bearerToken(req: FastifyRequest): string {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return '';
  const m = /^Bearer[ ]+(.+)$/i.exec(header.trim());
  return m?.[1] ?? '';
}

/** An `onRequest` hook that lets a request through only with the right bearer token. */
export function bearerGuard(token: Secret | string, realm: string): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token instanceof Secret ? token.reveal() : token);
  return async (req, reply) => {
    if (!tokenMatches(bearerToken(req), expected)) {
      void reply.header('www-authenticate', `Bearer realm="hes-gate ${realm}"`);
      throw new HesGateError('HG_UNAUTHORIZED', `a valid bearer token is required for the ${realm}`);
    }
  };
}
