/**
 * A request's arrival time, from which its deadline counts: requests read in one turn of the
 * event loop count from when the turn began reading them, so one read after 599 others counts
 * the wait behind them (in the saturation figure, before this, late answers had waited up to
 * 33 ms unread that no elapsedMs showed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/ops/logger.js';
import { rawConnect, type RawConnection } from './sockets.js';

const WORK_MS = 20;

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* a decision's work, stretched */
  }
}

describe('arrival time of requests read in one turn of the loop', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    app = createHttpApp({ bodyLimitBytes: 1024, logger: createLogger('silent') });
    app.get('/t', async (req) => {
      const arrivedAt = req.arrivedAt;
      busy(WORK_MS);
      return { arrivedAt, answeredAt: performance.now() };
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
  });

  const ask = (c: RawConnection): Promise<{ arrivedAt: number; answeredAt: number }> =>
    new Promise((resolve) => {
      const before = c.received().length;
      c.socket.on('data', function onData() {
        const text = c.received().slice(before);
        const body = /\r\n\r\n(\{.*\})$/.exec(text)?.[1];
        if (body === undefined) return;
        c.socket.off('data', onData);
        resolve(JSON.parse(body) as { arrivedAt: number; answeredAt: number });
      });
      c.write('GET /t HTTP/1.1\r\nHost: gate\r\n\r\n');
    });

  it('a request read behind another in the same turn counts the wait from when the turn began', async () => {
    const a = await rawConnect(url);
    const b = await rawConnect(url);
    try {
      // Both connections accepted and warm: one request each, in turns of their own.
      await ask(a);
      await ask(b);
      // Both requests reach the kernel while the loop is busy, so one turn reads them both.
      const first = ask(a);
      const second = ask(b);
      busy(50);
      const [x, y] = await Promise.all([first, second]);
      const [early, late] = x.arrivedAt <= y.arrivedAt && x.answeredAt < y.answeredAt ? [x, y] : [y, x];
      expect(late.arrivedAt).toBe(early.arrivedAt);
      expect(late.answeredAt - late.arrivedAt).toBeGreaterThanOrEqual(2 * WORK_MS);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('a request alone in its turn is stamped when node hands it over', async () => {
    const a = await rawConnect(url);
    try {
      const before = performance.now();
      const x = await ask(a);
      // Not stamped with an earlier turn's start: the batch ended with the turn that read it.
      expect(x.arrivedAt).toBeGreaterThanOrEqual(before);
      expect(x.answeredAt - x.arrivedAt).toBeGreaterThanOrEqual(WORK_MS);
    } finally {
      a.destroy();
    }
  });
});
