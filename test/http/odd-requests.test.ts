/**
 * Issue 20, item 7: requests node's HTTP server would answer itself — an `Expect` it does not
 * know (node: an empty 417) and CONNECT (node: the connection closed without a word) — get the
 * service's coded format, repeating nothing that was sent. Raw sockets against a listening station.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate } from './helpers.js';
import { answerTo, bodyOf, rawConnect } from './sockets.js';

const MARK = 'Q7ZK';

describe('requests node would answer itself', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false } });
  });
  afterAll(async () => {
    await t.gate.close();
  });

  it('an Expect other than 100-continue gets a coded 417', async () => {
    const c = await rawConnect(t.url);
    const body = '{"gate":"G1","hesCode":"A1B2345678"}';
    const answer = await answerTo(c, `POST /v1/decisions HTTP/1.1\r\nHost: gate\r\nExpect: ${MARK}-foo\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(answer).toMatch(/^HTTP\/1\.1 417 /);
    expect(bodyOf(answer)).toEqual({ error: { code: 'HG_EXPECTATION_FAILED', message: expect.any(String) } });
    expect(answer).not.toContain(MARK);
    // The body that followed the refused request must not be taken for another request.
    await c.closed;
  });

  it('Expect: 100-continue still works', async () => {
    const c = await rawConnect(t.url);
    c.write('GET /healthz HTTP/1.1\r\nHost: gate\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    await c.closed;
    expect(c.received()).toMatch(/HTTP\/1\.1 200 /);
  });

  it('CONNECT gets a coded 405 naming the methods it answers, then the connection closes', async () => {
    const c = await rawConnect(t.url);
    c.write(`CONNECT ${MARK}.example:443 HTTP/1.1\r\nHost: ${MARK}.example:443\r\n\r\n`);
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 405 /);
    expect(c.received()).toMatch(/\r\nAllow: GET, HEAD, POST, PUT, DELETE\r\n/);
    expect(bodyOf(c.received())).toEqual({ error: { code: 'HG_METHOD_NOT_ALLOWED', message: expect.any(String) } });
    expect(c.received()).not.toContain(MARK);
    // And the station goes on answering.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
