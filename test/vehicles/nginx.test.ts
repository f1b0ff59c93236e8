/**
 * The static server the vehicle tests publish lists to: a real nginx in a temp dir, reached
 * through the link proxy as a vehicle reaches it. A Range request gets 206 and exactly the bytes
 * asked; a download cut mid-file resumes from where it stopped and ends byte for byte.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkProxy } from './link-proxy.js';
import { hasNginx, Nginx } from './nginx.js';

const FILE = randomBytes(3 * 1024 * 1024 + 17);
const NAME = `${createHash('sha256').update(FILE).digest('hex')}.hgvl`;

/** Read a body until it ends or the connection drops: what arrived, and whether it was whole. */
async function readAll(res: Response): Promise<{ bytes: Buffer; complete: boolean }> {
  const parts: Buffer[] = [];
  const reader = res.body!.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(parts), complete: true };
      parts.push(Buffer.from(value));
    }
  } catch {
    return { bytes: Buffer.concat(parts), complete: false };
  }
}

describe.skipIf(!hasNginx)('nginx serving list files through the link proxy', () => {
  let root: string;
  let nginx: Nginx;
  let proxy: LinkProxy;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hes-gate-nginx-root-'));
    writeFileSync(join(root, NAME), FILE);
    nginx = await Nginx.start({ root });
    proxy = await LinkProxy.start({ target: { port: nginx.port } });
  });

  afterAll(async () => {
    await proxy?.close();
    await nginx?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers a Range request with 206 and exactly the bytes asked', async () => {
    const res = await fetch(`${proxy.url}/${NAME}`, { headers: { range: 'bytes=1000-1999' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 1000-1999/${FILE.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(FILE.subarray(1000, 2000))).toBe(true);
    expect(nginx.requests().at(-1)).toEqual({ method: 'GET', uri: `/${NAME}`, status: 206, bytes: 1000, range: 'bytes=1000-1999', authorized: false });
  });

  it('a download cut mid-file resumes with Range from where it stopped, and ends byte for byte', async () => {
    proxy.truncateNext(1_234_567, { request: /\.hgvl / });
    const first = await fetch(`${proxy.url}/${NAME}`);
    expect(first.status).toBe(200);
    const part = await readAll(first);
    expect(part.complete).toBe(false);
    expect(proxy.truncations).toBe(1);
    // Headers came first: the body got the rest of the 1,234,567 bytes, and they are the file's.
    expect(part.bytes.length).toBeGreaterThan(1_234_567 - 1024);
    expect(part.bytes.length).toBeLessThan(1_234_567);
    expect(part.bytes.equals(FILE.subarray(0, part.bytes.length))).toBe(true);

    const rest = await fetch(`${proxy.url}/${NAME}`, { headers: { range: `bytes=${part.bytes.length}-` } });
    expect(rest.status).toBe(206);
    const whole = Buffer.concat([part.bytes, Buffer.from(await rest.arrayBuffer())]);
    expect(createHash('sha256').update(whole).digest('hex')).toBe(NAME.slice(0, 64));
  });

  it('a name it does not hold is 404, and the directory is not listed', async () => {
    expect((await fetch(`${proxy.url}/${'0'.repeat(64)}.hgvl`)).status).toBe(404);
    expect((await fetch(`${proxy.url}/`)).status).toBe(404);
  });

  it('killed, it serves nothing; restarted on the same port, it serves again', async () => {
    await nginx.kill();
    expect(nginx.running).toBe(false);
    const down = await fetch(`${proxy.url}/${NAME}`).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(Error);
    await nginx.restart();
    expect((await fetch(`${proxy.url}/${NAME}`, { headers: { range: 'bytes=0-9' } })).status).toBe(206);
  });

  it('runs as in production too, a master and a worker (as root the worker takes the current user)', async () => {
    const prod = await Nginx.start({ root, workers: 1 });
    try {
      const res = await fetch(`${prod.url}/${NAME}`, { headers: { range: `bytes=${FILE.length - 5}-` } });
      expect(res.status).toBe(206);
      expect(Buffer.from(await res.arrayBuffer()).equals(FILE.subarray(FILE.length - 5))).toBe(true);
    } finally {
      await prod.stop();
    }
  });
});
