/**
 * The journal of a running station: decisions of every credential kind are recorded, read back
 * over GET /v1/journal (admin token, filters, pages, coded errors that echo nothing), summarised
 * per gate, exported as NDJSON and CSV — and the journal file holds no code, card id or QR part.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { loadConfig } from '../../src/config/load.js';
import { journalExport } from '../../src/cli/journal.js';
import { startTestGate } from '../http/helpers.js';

const ADMIN = 'journal-admin-token';
const CARD = '04A1B2C3D4E5F6';
const QR_ID = '12345678901';

describe('the decision journal of a running station', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  const get = async (path: string, token: string | null = ADMIN): Promise<{ status: number; body: any; text: string }> => {
    const res = await fetch(`${t.url}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) };
  };

  beforeAll(async () => {
    t = await startTestGate({ refresher: { enabled: false }, stationId: 'kadikoy-1', gates: { list: [{ id: 'N1' }, { id: 'N2' }] } }, { HES_GATE_ADMIN_TOKEN: ADMIN });
    const put = await fetch(`${t.url}/v1/cards/${CARD}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode: SAMPLE.RISKLESS }) });
    expect(put.status).toBe(201);
    for (const body of [
      { gate: 'N1', hesCode: SAMPLE.RISKLESS },
      { gate: 'N1', hesCode: SAMPLE.RISKY },
      { gate: 'N2', qr: `${QR_ID}|${SAMPLE.RISKLESS}` },
      { gate: 'N2', card: CARD },
      { gate: 'N2', card: '0A0B0C0D' },
    ]) {
      expect((await t.post(body)).status).toBe(200);
    }
    await t.gate.journal!.drain();
  });

  afterAll(async () => {
    await t?.gate.close();
  });

  it('answers only with the admin token', async () => {
    expect((await get('/v1/journal', null)).status).toBe(401);
    expect((await get('/v1/journal', 'wrong')).status).toBe(401);
  });

  it('lists every decision with what the gate did and nothing that identifies a passenger', async () => {
    const { status, body, text } = await get('/v1/journal');
    expect(status).toBe(200);
    expect(body.entries).toHaveLength(5);
    expect(body.entries.map((e: any) => [e.gate, e.kind, e.verdict, e.reason])).toEqual([
      ['N1', 'hes', 'pass', 'RISKLESS'],
      ['N1', 'hes', 'deny', 'RISKY'],
      ['N2', 'qr', 'pass', 'RISKLESS'],
      ['N2', 'card', 'pass', 'RISKLESS'],
      ['N2', 'card', 'deny', 'CARD_UNBOUND'],
    ]);
    expect(body.entries[0]).toMatchObject({ station: 'kadikoy-1', reader: null, source: 'ministry' });
    expect(body.entries[0].at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    for (const secret of [SAMPLE.RISKLESS, SAMPLE.RISKY, CARD, '0A0B0C0D', QR_ID]) expect(text).not.toContain(secret);
  });

  it('filters by gate, verdict, reason and time, and pages', async () => {
    expect((await get('/v1/journal?gate=N2&verdict=deny')).body.entries.map((e: any) => e.reason)).toEqual(['CARD_UNBOUND']);
    expect((await get('/v1/journal?reason=RISKY')).body.entries).toHaveLength(1);
    expect((await get(`/v1/journal?to=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).body.entries).toHaveLength(0);
    const first = await get('/v1/journal?limit=2');
    expect(first.body.entries).toHaveLength(2);
    const second = await get(`/v1/journal?limit=2&after=${first.body.next}`);
    expect(second.body.entries[0].decisionId).not.toBe(first.body.entries[1].decisionId);
    expect([second.body.entries[0].gate, second.body.entries[0].kind]).toEqual(['N2', 'qr']);
  });

  it('refuses bad queries with a coded error that repeats nothing of the request', async () => {
    for (const q of ['limit=0', 'limit=abc', 'verdict=maybe', 'from=yesterday-ish', 'gate=%3Cscript%3E', 'A1B2345678=1', 'reason=a1b2345678']) {
      const r = await get(`/v1/journal?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe('HG_BAD_REQUEST');
      expect(r.text.toLowerCase()).not.toContain('a1b2345678');
      expect(r.text).not.toContain('script');
      expect(r.text).not.toContain('yesterday');
    }
  });

  it('summarises each gate over the last 24 hours', async () => {
    const { body } = await get('/v1/journal/summary');
    expect(body.station).toBe('kadikoy-1');
    expect(body.gates.map((g: any) => [g.gate, g.decisions, g.pass, g.deny, g.reasons])).toEqual([
      ['N1', 2, 1, 1, { RISKY: 1 }],
      ['N2', 3, 2, 1, { CARD_UNBOUND: 1 }],
    ]);
    expect(body.gates[0].p99Ms).toBeGreaterThan(0);
  });

  it('exports a time range as NDJSON and CSV', async () => {
    const loaded = loadConfig({ noFile: true, env: { HES_GATE_DATA_DIR: t.gate.config.dataDir, HES_GATE_STATION_ID: 'kadikoy-1' } });
    const capture = (): Writable & { text: string } => {
      const w = new Writable({ write(chunk, _e, cb) { (w as any).text += chunk.toString(); cb(); } }) as Writable & { text: string };
      w.text = '';
      return w;
    };
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const nd = capture();
    await journalExport({ from, to, gate: 'N2' }, nd, loaded);
    const lines = nd.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.reason)).toEqual(['RISKLESS', 'RISKLESS', 'CARD_UNBOUND']);
    const csv = capture();
    await journalExport({ from, to, format: 'csv' }, csv, loaded);
    const rows = csv.text.trim().split('\n');
    expect(rows[0]).toBe('at,station,gate,reader,kind,verdict,reason,source,elapsedMs,decisionId');
    expect(rows).toHaveLength(6);
    expect(rows[2]).toContain(',kadikoy-1,N1,,hes,deny,RISKY,');
  });

  it('writes nothing that identifies a passenger into the journal file', async () => {
    await t.gate.journal!.drain();
    const file = join(t.gate.config.dataDir, 'journal.db');
    const bytes = [file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
    expect(bytes).toContain('CARD_UNBOUND');
    for (const secret of [SAMPLE.RISKLESS, SAMPLE.RISKY, CARD, '0A0B0C0D', QR_ID]) expect(bytes).not.toContain(secret);
  });
});
