import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Secret } from '../../config/sensitive-value.js';
import { HesGateError } from '../../errors.js';
import type { LiveClient, LiveFeed } from '../../ops/live-feed.js';
import type { LiveHistory } from '../../ops/live-wire.js';
import { bearerGuard } from '../auth.js';
import { loadLivePage } from '../live-page.js';

export interface LiveRoutesOptions {
  feed: LiveFeed;
  /** Operator token for the event stream; null leaves it open (loopback-only setups). */
  token: Secret | null;
  /** Reconnect delay the stream advises, in ms. @default 3000 */
  retryMs?: number;
  /** How long a closing stream may take to flush before it is cut, in ms. @default 1000 */
  closeGraceMs?: number;
  /** The last 24 hours per gate, from the decision journal (cached by its source). */
  history?: () => Promise<LiveHistory>;
}

/** Same-origin only, and no inline script or style: the page's script and stylesheet are routes of their own. */
export const LIVE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function staticAsset(reply: FastifyReply, type: string, body: string): string {
  void reply
    .header('content-type', type)
    .header('content-security-policy', LIVE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache');
  return body;
}

/**
 * The operators' live page: `GET /live` (with `/live/app.css` and the script's modules, `/live/app.js` …) and its
 * Server-Sent Events stream `GET /v1/live/events`, and the journal's last 24 hours per gate,
 * `GET /v1/live/history` (JSON, the same token rule as the stream).
 *
 * The page's files are read once, when the routes are registered (at start), never on a request.
 * The page and its assets hold no data and are served openly; the stream needs the operator
 * token when one is configured. The page sends it in an Authorization header (it reads the
 * stream with fetch(), not EventSource), so the token is never in a URL or an access log.
 */
export async function liveRoutes(app: FastifyInstance, opts: LiveRoutesOptions): Promise<void> {
  const guard = opts.token === null ? undefined : bearerGuard(opts.token, 'live feed');
  const retryMs = opts.retryMs ?? 3000;
  const closeGraceMs = opts.closeGraceMs ?? 1000;
  const open = new Map<LiveClient, () => void>();
  const page = await loadLivePage();

  app.get('/live', async (_req, reply) => staticAsset(reply, 'text/html; charset=utf-8', page.html));
  // The script's modules by name (a Map: the name is whatever the URL said).
  app.get<{ Params: { script: string } }>('/live/:script', async (req, reply) => {
    const script = page.scripts.get(req.params.script);
    if (script === undefined) throw new HesGateError('HG_NOT_FOUND', 'no such file of the live page');
    return staticAsset(reply, 'text/javascript; charset=utf-8', script);
  });
  app.get('/live/app.css', async (_req, reply) => staticAsset(reply, 'text/css; charset=utf-8', page.css));

  const history = opts.history;
  if (history !== undefined) {
    app.get('/v1/live/history', { onRequest: guard }, async (_req, reply) => {
      void reply.header('cache-control', 'no-store');
      return history();
    });
  }

  app.get('/v1/live/events', { onRequest: guard }, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Proxies (nginx) must pass events through as they come.
      'x-accel-buffering': 'no',
    });
    req.raw.socket.setNoDelay(true);
    res.write(`retry: ${retryMs}\n\n`);

    const client: LiveClient = {
      send: (chunk) => {
        if (!res.destroyed && !res.writableEnded) res.write(chunk);
      },
      get buffered() {
        return res.writableLength;
      },
      drop: (why) => {
        if (why === 'slow') {
          req.log.warn({ buffered: res.writableLength }, 'live feed: dropped a client that does not keep up');
          res.destroy();
          return;
        }
        res.end();
        setTimeout(() => res.destroy(), closeGraceMs).unref();
      },
    };
    open.set(client, opts.feed.attach(client));
    res.on('close', () => {
      open.get(client)?.();
      open.delete(client);
    });
  });

  // Open streams would keep the server from closing.
  app.addHook('preClose', async () => {
    for (const [client, detach] of open) {
      detach();
      client.drop('closing');
    }
    open.clear();
  });
}
