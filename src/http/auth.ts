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
export function bearerToken(req: FastifyRequest): string {
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

/**
 * Like `bearerGuard`, for routes any configured token may read (device state: operators hold the
 * admin token, validators' integrators the API token). Without any token configured the service
 * has no authentication at all (as the decision API), and these routes are open too.
 */
export function anyTokenGuard(tokens: ReadonlyArray<Secret | string | null | undefined>, realm: string): ((req: FastifyRequest, reply: FastifyReply) => Promise<void>) | undefined {
  const expected = tokens.filter((t): t is Secret | string => t !== null && t !== undefined && (typeof t !== 'string' || t.length > 0)).map((t) => digest(t instanceof Secret ? t.reveal() : t));
  if (expected.length === 0) return undefined;
  return async (req, reply) => {
    const presented = bearerToken(req);
    // Every digest is compared, so the timing does not say which token (if any) matched.
    let ok = false;
    for (const e of expected) ok = tokenMatches(presented, e) || ok;
    if (!ok) {
      void reply.header('www-authenticate', `Bearer realm="hes-gate ${realm}"`);
      throw new HesGateError('HG_UNAUTHORIZED', `a valid bearer token (admin or API) is required for the ${realm}`);
    }
  };
}

/**
 * The token of the operators' read-only views (the live feed and its history): the admin token
 * when one is set; else the API token, so a station that set only that one does not show its
 * decisions to anyone who asks; null (open) only when no token is set at all, which `serve`
 * allows on loopback alone (HG_EXPOSED_WITHOUT_TOKEN).
 */
export function operatorToken(tokens: { adminToken: Secret | null; apiToken: Secret | null }): Secret | null {
  return tokens.adminToken ?? tokens.apiToken;
}
