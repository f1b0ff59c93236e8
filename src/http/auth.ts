import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HesGateError } from '../errors.js';
import type { Secret } from '../config/sensitive-value.js';

/**
 * A bearer-token check in constant time: both sides are hashed to equal-length digests first,
 * so neither the token's content nor its length leaks through timing.
 */
export function bearerGuard(token: Secret, realm: string): (req: FastifyRequest) => Promise<void> {
  const expected = createHash('sha256').update(token.reveal()).digest();
  return async (req) => {
    const header = req.headers.authorization;
    const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    const digest = createHash('sha256').update(presented).digest();
    if (!timingSafeEqual(digest, expected) || presented.length === 0) {
      throw new HesGateError('HG_UNAUTHORIZED', `a valid bearer token is required for the ${realm}`);
    }
  };
}
