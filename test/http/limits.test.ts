/**
 * What a slow or hostile client can hold: slow headers and slow bodies are cut off by their
 * configured timeouts, connections beyond the cap are closed, oversized headers get a coded 431.
 * Real sockets against a listening service; every wait is on the socket's own events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate } from './helpers.js';
import { bodyOf, rawConnect } from './sockets.js';

const LIMITS = { headersTimeoutMs: 400, requestTimeoutMs: 800, idleTimeoutMs: 5000, maxConnections: 8, maxHeaderBytes: 2048 };
/** Scheduling slack on a busy two-core machine: node checks timeouts every tenth of the shorter one. */
const SLACK_MS = 1500;

describe('connection limits', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({ limits: LIMITS, refresher: { enabled: false } });
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it('closes a client that sends its headers a byte at a time, by limits.headersTimeoutMs', async () => {
    const c = await rawConnect(t.url);
    c.drip(`POST /v1/decisions HTTP/1.1\r\nHost: gate\r\nX-Slow: ${'a'.repeat(500)}\r\n\r\n`, 20);
    const ms = await c.closed;
    expect(ms).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 50);
    expect(ms).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS);
  });

  it('closes a slow upload by limits.requestTimeoutMs and says so in the service format', async () => {
    const c = await rawConnect(t.url);
    c.write('POST /v1/decisions HTTP/1.1\r\nHost: gate\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"gate":"G1",');
    c.drip(`"hesCode":"${'A'.repeat(180)}`, 20);
    const ms = await c.closed;
    expect(ms).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 50);
    expect(ms).toBeLessThan(LIMITS.requestTimeoutMs + SLACK_MS);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(c.received())).toMatchObject({ error: { code: 'HG_REQUEST_TIMEOUT' } });
  });

  it('answers headers over limits.maxHeaderBytes with a coded 431 that repeats none of them', async () => {
    const c = await rawConnect(t.url);
    c.write(`GET /healthz HTTP/1.1\r\nHost: gate\r\nX-Card: 04A1B2C3EE${'0'.repeat(3000)}\r\n\r\n`);
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(c.received())).toMatchObject({ error: { code: 'HG_HEADERS_TOO_LARGE' } });
    expect(c.received()).not.toContain('04A1B2C3EE');
  });

  it('answers a URL longer than the header limit with a coded 431', async () => {
    const res = await fetch(`${t.url}/v1/cards/04A1B2C3EE${'0'.repeat(3000)}`);
    expect(res.status).toBe(431);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'HG_HEADERS_TOO_LARGE' } });
    expect(text).not.toContain('04A1B2C3EE');
  });

  it('closes connections beyond limits.maxConnections at once', async () => {
    const held = await Promise.all(Array.from({ length: LIMITS.maxConnections }, () => rawConnect(t.url)));
    try {
      // Each held connection is known to the server once it has answered a request on it.
      await Promise.all(
        held.map(
          (c) =>
            new Promise<void>((resolve) => {
              c.socket.on('data', () => resolve());
              c.write('GET /healthz HTTP/1.1\r\nHost: gate\r\n\r\n');
            }),
        ),
      );
      const extra = await rawConnect(t.url);
      extra.write('GET /healthz HTTP/1.1\r\nHost: gate\r\n\r\n');
      await extra.closed;
      expect(extra.received()).toBe('');
    } finally {
      for (const c of held) c.destroy();
      await Promise.all(held.map((c) => c.closed));
    }
    // Once they are gone, new clients are served again.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
