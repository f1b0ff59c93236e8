import { connect, type Socket } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/sensitive-value.js';
import type { LiveDecision, LiveSnapshot } from '../../src/ops/live-wire.js';
import { decisionEvent, SseReader, startLiveServer, type LiveServer } from './helpers.js';

let server: LiveServer | undefined;
afterEach(async () => {
  await server?.app.close();
  server = undefined;
});

async function openStream(url: string, headers: Record<string, string> = {}): Promise<{ res: Response; sse: SseReader }> {
  const res = await fetch(`${url}/v1/live/events`, { headers: { accept: 'text/event-stream', ...headers } });
  expect(res.status).toBe(200);
  return { res, sse: new SseReader(res.body!) };
}

describe('GET /live and its assets', () => {
  it('serves the page, script and stylesheet with a same-origin CSP and no inline code', async () => {
    server = await startLiveServer();
    for (const [path, type] of [
      ['/live', 'text/html'],
      ['/live/app.js', 'text/javascript'],
      ['/live/app.css', 'text/css'],
    ] as const) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      const csp = res.headers.get('content-security-policy');
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const html = await (await fetch(`${server.url}/live`)).text();
    expect(html).not.toMatch(/<script>|<style|style="|\son\w+=/); // nothing inline for the CSP to refuse
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing from elsewhere
  });
});

describe('GET /v1/live/events over a real socket', () => {
  it('streams retry, a snapshot and the decisions held, then batches and periodic snapshots', async () => {
    server = await startLiveServer({ feed: { snapshotEveryMs: 500, flushEveryMs: 250, heartbeatEveryMs: 1000 } });
    server.feed.decision(decisionEvent({ gate: 'before' }));
    const { res, sse } = await openStream(server.url);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');

    const [snapshot] = (await sse.waitFor('snapshot')) as LiveSnapshot[];
    expect(sse.retry).toBe(3000);
    expect(snapshot).toMatchObject({ environment: 'simulator', ministry: { state: 'up', circuit: 'closed' }, cache: { entries: 1234 } });
    const [initial] = (await sse.waitFor('decisions')) as Array<{ events: LiveDecision[] }>;
    expect(initial!.events.map((d) => d.gate)).toEqual(['before']);

    server.feed.decision(decisionEvent({ gate: 'G7', verdict: 'deny', reason: 'RISKY', source: 'ministry' }));
    server.feed.decision(decisionEvent({ gate: 'G8' }));
    server.tick();
    const batches = (await sse.waitFor('decisions', 2)) as Array<{ events: LiveDecision[] }>;
    expect(batches[1]!.events).toMatchObject([
      { gate: 'G7', verdict: 'deny', reason: 'RISKY', source: 'ministry' },
      { gate: 'G8', verdict: 'pass' },
    ]);

    server.tick(3); // 4 ticks of 250 ms: snapshots at 2 and 4, a heartbeat at 4
    await sse.waitFor('snapshot', 3);
    expect(sse.comments.some((c) => c.startsWith('heartbeat'))).toBe(true);
    await sse.cancel();
  });

  it('detaches a client when it disconnects', async () => {
    server = await startLiveServer();
    const serverSocketClosed = new Promise<void>((resolve) =>
      server!.app.server.once('connection', (s: Socket) => s.once('close', () => resolve())),
    );
    const { sse } = await openStream(server.url);
    await sse.waitFor('snapshot');
    expect(server.feed.clientCount).toBe(1);
    await sse.cancel();
    await serverSocketClosed;
    expect(server.feed.clientCount).toBe(0);
  });

  it('ends open streams when the app closes, so shutdown does not hang', async () => {
    server = await startLiveServer();
    const { sse } = await openStream(server.url);
    await sse.waitFor('snapshot');
    await server.app.close();
    server = undefined;
    await sse.done;
    expect(sse.ended).toBe(true);
  });

  it('drops a client whose socket stops reading, instead of buffering for it', async () => {
    server = await startLiveServer({ feed: { maxBufferedBytes: 64 * 1024 } });
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    const firstBytes = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write('GET /v1/live/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    await firstBytes;
    socket.pause(); // reads nothing more: the kernel's buffers fill, then the server's
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const gate = 'G'.repeat(64);
    let ticks = 0;
    while (server.feed.clientCount > 0 && ticks < 5000) {
      for (let i = 0; i < 200; i++) server.feed.decision(decisionEvent({ gate }));
      server.tick();
      ticks++;
      await turn();
    }
    expect(server.feed.clientCount).toBe(0);
    socket.resume();
    await closed;
    expect(server.logs.lines.some((l) => l.msg === 'live feed: dropped a client that does not keep up')).toBe(true);
  });
});

describe('the operator token', () => {
  const token = new Secret('operator-secret-token');

  it('guards the stream but not the page shell, which holds no data', async () => {
    server = await startLiveServer({ token });
    expect((await fetch(`${server.url}/live`)).status).toBe(200);
    const none = await fetch(`${server.url}/v1/live/events`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'HG_UNAUTHORIZED' } });
    const wrong = await fetch(`${server.url}/v1/live/events`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const { sse } = await openStream(server.url, { authorization: 'Bearer operator-secret-token' });
    await sse.waitFor('snapshot');
    await sse.cancel();
  });
});
