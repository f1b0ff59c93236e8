/**
 * The log's event vocabulary, read as an operator's pipeline reads it: JSON lines parsed and
 * matched on `event`. Each event carries its fields, every line names the station and service,
 * and no line holds a HES code or a card id, request logging included.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startHesGate, type HesGate } from '../../src/hes-gate.js';
import { createLogger } from '../../src/ops/logger.js';
import { LOG_EVENTS } from '../../src/ops/log-events.js';
import { SAMPLE, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { LogCapture } from '../http/helpers.js';
import { describeSerial, startPtyPair, type PtyPair } from '../devices/pty.js';

type Line = Record<string, unknown>;

/** LogCapture that can wait for a line (woken by each write, never by a timer). */
class WaitingLog extends LogCapture {
  private waiters: Array<() => void> = [];
  override _write(chunk: Buffer, enc: BufferEncoding, cb: () => void): void {
    super._write(chunk, enc, () => {
      for (const w of this.waiters.splice(0)) w();
      cb();
    });
  }
  events(name: string): Line[] {
    return this.lines.filter((l) => l['event'] === name);
  }
  async waitFor(pred: (l: Line) => boolean): Promise<Line> {
    for (;;) {
      const found = this.lines.find(pred);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

const ADMIN = 'admin-token-logs';
const CARD = '04A1B2C3D4';
let gate: HesGate | undefined;
let sim: Simulator | undefined;
let pty: PtyPair | undefined;
afterEach(async () => {
  await gate?.close();
  await sim?.close();
  await pty?.kill();
  gate = sim = pty = undefined;
});

async function start(overrides: Record<string, unknown>, env: Record<string, string> = {}): Promise<{ gate: HesGate; logs: WaitingLog }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hes-gate-logs-'));
  const loaded = loadConfig({
    noFile: true,
    env: { HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir, HES_GATE_STATION_ID: 'kadikoy-1', HES_GATE_ADMIN_TOKEN: ADMIN, ...env },
    overrides: { refresher: { enabled: false }, cache: { maxEntries: 10_000 }, ...overrides },
  });
  const logs = new WaitingLog();
  gate = await startHesGate(loaded, { logger: createLogger('info', logs, loaded.config.stationId) });
  return { gate, logs };
}

function noSecrets(logs: LogCapture, values: string[]): void {
  const all = logs.raw.join('\n');
  for (const v of values) expect(all, `a log line holds ${v}`).not.toContain(v);
  for (const l of logs.lines) expect(l).toMatchObject({ service: 'hes-gate', station: 'kadikoy-1', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
}

/** The events of the standalone run below, as its log said them. */
const seen = new Set<string>();

describe('log events', () => {
  it('start, ready, ministry.state and stop carry their fields; requests are not logged by default', async () => {
    const t = await start({});
    const post = (body: unknown) => fetch(`${t.gate.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(t.logs.events('start')[0]).toMatchObject({ level: 30, version: expect.any(String) });
    expect(t.logs.events('ready')[0]).toMatchObject({ url: t.gate.url, environment: 'simulator', gates: 0 });

    expect((await post({ gate: 'G1', hesCode: SAMPLE.RISKLESS })).status).toBe(200);
    await t.logs.waitFor((l) => l['event'] === 'ministry.state' && l['to'] === 'up');
    expect(t.logs.events('ministry.state')[0]).toMatchObject({ from: 'unknown', to: 'up', error: null });

    // The ministry fails: health goes degraded with the failure's code (not the code asked for).
    t.gate.simulator!.setFaults({ status: 503 });
    expect((await post({ gate: 'G1', hesCode: SAMPLE.RISKY })).status).toBe(200);
    const degraded = await t.logs.waitFor((l) => l['event'] === 'ministry.state' && l['to'] === 'degraded');
    expect(degraded).toMatchObject({ from: 'up', level: 40, error: expect.stringMatching(/^HG_MINISTRY_/) });
    // One line per change, not per call.
    expect(t.logs.events('ministry.state').filter((l) => l['to'] === 'up')).toHaveLength(1);

    await t.gate.close();
    gate = undefined;
    expect(t.logs.events('stop')).toHaveLength(1);
    expect(t.logs.events('request')).toEqual([]);
    for (const l of t.logs.lines) if (typeof l['event'] === 'string') seen.add(l['event']);
    expect([...seen].filter((e) => !(LOG_EVENTS as readonly string[]).includes(e))).toEqual([]);
    noSecrets(t.logs, [SAMPLE.RISKLESS, SAMPLE.RISKY]);
  });

  it('are documented under "Logs" in docs/operations.md: those of a standalone run and the declared vocabulary, and no other', () => {
    expect(seen.size, 'the standalone run above logged its events').toBeGreaterThan(0);
    const docs = readFileSync('docs/operations.md', 'utf8');
    const section = docs.slice(docs.indexOf('## Logs'), docs.indexOf('\n## ', docs.indexOf('## Logs') + 1));
    const documented = new Set([...section.matchAll(/^\| `([a-z.-]+)` \| (?:debug|info|warn|error)/gm)].map((m) => m[1]!));
    const events = new Set<string>([...seen, ...LOG_EVENTS]);
    expect([...events].filter((e) => !documented.has(e)), 'events without a row').toEqual([]);
    expect([...documented].filter((e) => !events.has(e)), 'rows without an event').toEqual([]);
  });

  it('config.problem and a credentials-refused ministry, against a real ministry address without credentials', async () => {
    sim = await startSimulator();
    const t = await start({ ministry: { baseUrl: sim.url } });
    expect(t.logs.events('config.problem')[0]).toMatchObject({ level: 40, key: 'ministry.user' });
    await fetch(`${t.gate.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gate: 'G1', hesCode: SAMPLE.RISKLESS }) });
    const refused = await t.logs.waitFor((l) => l['event'] === 'ministry.state');
    expect(refused).toMatchObject({ from: 'unknown', to: 'credentials-refused', error: 'HG_MINISTRY_AUTH' });
    noSecrets(t.logs, [SAMPLE.RISKLESS]);
  });

  it('log.requests: one line per request with the route pattern, never the URL or a card id', async () => {
    const t = await start({ log: { requests: true } });
    const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    expect((await fetch(`${t.gate.url}/v1/cards/${CARD}`, { method: 'PUT', headers: auth, body: JSON.stringify({ hesCode: SAMPLE.RISKLESS }) })).status).toBe(201);
    expect((await fetch(`${t.gate.url}/v1/cards/${CARD}`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${t.gate.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gate: 'G1', card: CARD }) })).status).toBe(200);
    expect((await fetch(`${t.gate.url}/no/such/${CARD}?x=${SAMPLE.RISKY}`)).status).toBe(404);
    await t.logs.waitFor((l) => l['event'] === 'request' && l['status'] === 404);
    const requests = t.logs.events('request').map((l) => [l['method'], l['route'], l['status']]);
    expect(requests).toEqual([
      ['PUT', '/v1/cards/:cardId', 201],
      ['GET', '/v1/cards/:cardId', 200],
      ['POST', '/v1/decisions', 200],
      ['GET', '(no route)', 404],
    ]);
    for (const l of t.logs.events('request')) expect(l['ms']).toEqual(expect.any(Number));
    noSecrets(t.logs, [CARD, CARD.slice(0, 8), SAMPLE.RISKLESS, SAMPLE.RISKY]);
  });
});

describeSerial('log events of serial devices', () => {
  it('device.state: a reader port open, then lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-logs-pty-'));
    pty = await startPtyPair(join(dir, 'qr'), join(dir, 'qr-peer'));
    const t = await start({ gates: { list: [{ id: 'N1', readers: [{ id: 'N1/qr', path: join(dir, 'qr'), profile: 'honeywell-qr' }] }] } });
    const open = await t.logs.waitFor((l) => l['event'] === 'device.state' && l['state'] === 'open');
    expect(open).toMatchObject({ device: 'N1/qr', role: 'reader', path: join(dir, 'qr'), error: null, level: 30 });
    const lost = once(t.gate.station!, 'device');
    await pty.kill();
    pty = undefined;
    await lost;
    const down = await t.logs.waitFor((l) => l['event'] === 'device.state' && l['state'] !== 'open');
    expect(down).toMatchObject({ device: 'N1/qr', level: 40, state: expect.stringMatching(/^(closed|reconnecting)$/) });
  });
});
