/**
 * Store and forward: the vehicle's journal (a real SQLite journal and its worker) goes to a real
 * HTTP server in batches of at most 1000, with the list version, its signed time and the vehicle's
 * clock; the cursor on disk moves only after a 2xx, so a refused or cut batch is sent again and an
 * acknowledged one never is. No card id or code is in what is sent.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { Journal, type DecisionRecord } from '../../../src/journal/journal.js';
import type { Timers } from '../../../src/types.js';
import { hubAgent } from '../../../src/vehicles/vehicle/hub-http.js';
import type { LinkChange } from '../../../src/vehicles/vehicle/link-state.js';
import { UploadCursor } from '../../../src/vehicles/vehicle/upload-cursor.js';
import { Uploader, type UploadBody } from '../../../src/vehicles/vehicle/uploader.js';

const T = Date.UTC(2026, 11, 8, 9);
const TOKEN = 'vehicle-token-0123456789abcdef';
const CARD = '04A1B2C3D4E5F6';
const noTimers: Timers = { setTimeout: () => 0, clearTimeout: () => undefined };

function rec(i: number): DecisionRecord {
  return { at: T + i, gate: 'front', reader: 'front-reader', kind: 'card', verdict: 'pass', reason: 'RISKLESS', source: 'list', elapsedMs: 0.2, decisionId: `d-${i}` };
}

describe('the vehicle uploader', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let agent: Agent;
  /** Status codes to answer, in order; 200 once they run out. */
  let answers: number[];
  const received: Array<{ body: UploadBody; raw: string; auth: string | undefined }> = [];
  const journals: Journal[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hg-upload-'));
    answers = [];
    received.length = 0;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = answers.shift() ?? 200;
        if (status === 200) {
          const raw = Buffer.concat(chunks).toString('utf8');
          received.push({ body: JSON.parse(raw) as UploadBody, raw, auth: req.headers.authorization });
        }
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/vehicles/reports`;
    agent = hubAgent();
  });

  afterEach(async () => {
    for (const j of journals.splice(0)) await j.close();
    await agent.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    rmSync(dir, { recursive: true, force: true });
  });

  async function journalWith(n: number, file = join(dir, 'journal.db')): Promise<Journal> {
    const journal = new Journal({ file, clock: () => T, retentionMs: 30 * 86_400_000, maxBytes: 1 << 30, flushIntervalMs: 60_000 });
    journals.push(journal);
    await journal.ready;
    for (let i = 1; i <= n; i++) journal.record(rec(i));
    await journal.drain();
    return journal;
  }

  function uploader(journal: Journal, links: LinkChange[] = []): Uploader {
    return new Uploader({
      url,
      hubOrigin: new URL(url).origin,
      token: () => TOKEN,
      journal,
      cursor: new UploadCursor(join(dir, 'vehicle-upload-cursor')),
      list: () => ({ version: 42, issuedAt: T - 60_000 }),
      counters: () => ({ bytesFetched: 1234 }),
      clock: () => T + 5,
      everyMs: 60_000,
      dispatcher: agent,
      timers: noTimers,
      onLink: (c) => links.push(c),
    });
  }

  const cursorOnDisk = (): number => Number(readFileSync(join(dir, 'vehicle-upload-cursor'), 'utf8'));
  const ids = (): string[] => received.flatMap((r) => r.body.entries.map((e) => e.decisionId));

  it('sends batches of at most 1000 after the cursor, and moves the cursor only after a 2xx', async () => {
    const journal = await journalWith(2500);
    const links: LinkChange[] = [];
    const u = uploader(journal, links);
    answers = [503];
    await u.round();
    expect(received).toHaveLength(0);
    expect(u.report()).toMatchObject({ pending: 2500, uploaded: 0, lastUploadAt: null });
    expect(links.at(-1)).toMatchObject({ state: 'refused', detail: '503' });

    // The first batch acknowledged, the second refused: the cursor stops after the first.
    answers = [200, 500];
    await u.round();
    expect(received.map((r) => r.body.entries.length)).toEqual([1000]);
    expect(cursorOnDisk()).toBe(1000);
    expect(u.report()).toMatchObject({ pending: 1500, uploaded: 1000 });

    await u.round();
    expect(received.map((r) => r.body.entries.length)).toEqual([1000, 1000, 500]);
    expect(ids()).toEqual(Array.from({ length: 2500 }, (_, i) => `d-${i + 1}`));
    expect(cursorOnDisk()).toBe(2500);
    expect(u.report()).toMatchObject({ pending: 0, uploaded: 2500, lastUploadAt: T + 5 });
    expect(links.at(-1)).toMatchObject({ state: 'up' });

    const first = received[0]!;
    expect(first.auth).toBe(`Bearer ${TOKEN}`);
    expect(first.body).toMatchObject({ listVersion: 42, listIssuedAt: T - 60_000, clockAt: T + 5, counters: { bytesFetched: 1234 } });
    expect(first.body.entries[0]).toEqual({ at: T + 1, gate: 'front', reader: 'front-reader', kind: 'card', verdict: 'pass', reason: 'RISKLESS', source: 'list', elapsedMs: 0.2, decisionId: 'd-1' });
    expect(received.some((r) => r.raw.includes(CARD))).toBe(false);

    // Nothing new: nothing sent.
    await u.round();
    expect(received).toHaveLength(3);
  });

  it('resumes after the acknowledged cursor when restarted, and sends what came since', async () => {
    const journal = await journalWith(1200);
    await uploader(journal).round();
    expect(cursorOnDisk()).toBe(1200);
    for (let i = 1201; i <= 1300; i++) journal.record(rec(i));
    await journal.drain();
    received.length = 0;
    await uploader(journal).round();
    expect(ids()).toEqual(Array.from({ length: 100 }, (_, i) => `d-${i + 1201}`));
  });

  it('starts from the beginning of a journal that started again under the cursor', async () => {
    const journal = await journalWith(300);
    await uploader(journal).round();
    expect(cursorOnDisk()).toBe(300);
    await journal.close();
    journals.splice(journals.indexOf(journal), 1);
    const fresh = await journalWith(5, join(dir, 'journal-2.db'));
    received.length = 0;
    await uploader(fresh).round();
    expect(ids()).toEqual(['d-1', 'd-2', 'd-3', 'd-4', 'd-5']);
    expect(cursorOnDisk()).toBe(5);
  });

  it('a hub that cannot be reached leaves the cursor where it was, said once', async () => {
    const journal = await journalWith(10);
    const links: LinkChange[] = [];
    const u = uploader(journal, links);
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await u.round();
    await u.round();
    expect(links).toEqual([expect.objectContaining({ state: 'unreachable', previous: 'starting' })]);
    expect(u.report().pending).toBe(10);
    server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  });
});
