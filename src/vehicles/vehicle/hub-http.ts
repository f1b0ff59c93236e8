/**
 * The vehicle's HTTP to its hub and list servers: one undici agent with short timeouts, because a
 * cellular link that stalls must fail fast and leave the next poll to try again (a tap never waits
 * on any of this). The token goes only to the hub's own origin: a static server or object store
 * holding the (content-addressed, signed) files never sees it.
 */
import { Agent, type Dispatcher } from 'undici';

export interface HubHttpOptions {
  /** @default 5000 */
  connectTimeoutMs?: number;
  /** Waiting for response headers. @default 10000 */
  headersTimeoutMs?: number;
  /** Longest silence between two chunks of a body. @default 15000 */
  bodyTimeoutMs?: number;
}

export function hubAgent(o: HubHttpOptions = {}): Agent {
  return new Agent({
    connect: { timeout: o.connectTimeoutMs ?? 5000 },
    headersTimeout: o.headersTimeoutMs ?? 10_000,
    bodyTimeout: o.bodyTimeoutMs ?? 15_000,
    // A modem's NAT forgets idle connections quickly: do not keep one long.
    keepAliveTimeout: 4000,
    connections: 2,
  });
}

/** The Authorization header for `url`: the Bearer token only when it is the hub's own origin. */
export function authFor(url: string, hubOrigin: string, token: string): Record<string, string> {
  return new URL(url).origin === hubOrigin ? { authorization: `Bearer ${token}` } : {};
}

/** Read and drop a body we do not use, so the connection goes back to the pool. */
export async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    // the connection is closed instead
  }
}
