/**
 * Issue 20.6: what must not stop a station at start, and must not go unseen either. A corrupt
 * `journal.db` (README: a failed journal means decisions go on unrecorded) and a ministry host
 * that does not resolve (DNS may be down at boot) start the real `serve`: it decides, logs the
 * problem once, and shows it on /readyz and in /metrics.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startCli, stop } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'hes-gate-degraded-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let running: ChildProcess | undefined;
afterEach(async () => {
  if (running !== undefined) await stop(running);
  running = undefined;
});

interface LogLine {
  level: number;
  event?: string;
  msg?: string;
  url?: string;
  key?: string;
  state?: string;
}

/** Start serve; `until(pred)` resolves with the first log line (past or future) matching it. */
function serve(env: NodeJS.ProcessEnv): { child: ChildProcess; until: (pred: (l: LogLine) => boolean) => Promise<LogLine>; lines: LogLine[]; stderr: () => string } {
  const child = startCli(['serve'], { env });
  running = child;
  const lines: LogLine[] = [];
  const waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const l = JSON.parse(text) as LogLine;
    lines.push(l);
    for (const w of [...waiters]) if (w.pred(l)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(l));
  });
  const until = (pred: (l: LogLine) => boolean): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const seen = lines.find(pred);
      if (seen !== undefined) return resolve(seen);
      waiters.push({ pred, resolve });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
  return { child, until, lines, stderr: () => stderr };
}

interface Readyz {
  status: string;
  checks: Record<string, { ok: boolean; detail: string }>;
}

describe('serve starts, visibly degraded, where refusing would stop the gates', () => {
  it('a corrupt journal.db: decisions go on unrecorded, logged once, on /readyz and hes_gate_journal_up 0', async () => {
    const data = join(dir, 'corrupt', 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'journal.db'), 'this is not an SQLite database, it is the wreck of one\n'.repeat(200));
    const s = serve({ HES_GATE_CONFIG: 'default', HES_GATE_PORT: '0', HES_GATE_DATA_DIR: data, HES_GATE_LOG_LEVEL: 'info' });
    const { url } = await s.until((l) => l.msg === 'hes-gate is serving');
    const decision = await fetch(`${url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"gate":"G1","hesCode":"A1B2345678"}' });
    expect(decision.status).toBe(200);
    expect(((await decision.json()) as { verdict: string }).verdict).toMatch(/pass|deny/);

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as Readyz;
    expect(body.checks['journal']).toMatchObject({ ok: false });
    expect(body.checks['journal']!.detail).toMatch(/^failed, decisions go on unrecorded: .*not a database/);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^hes_gate_journal_up 0$/m);
    expect(metrics).toMatch(/^hes_gate_journal_dropped_total [1-9]/m);
    expect(s.lines.filter((l) => l.event === 'journal.error').map((l) => l.level)).toEqual([50]);
    expect(await stop(s.child)).toBe(0);
    expect(s.stderr()).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('a healthy journal says so on /readyz and hes_gate_journal_up 1', async () => {
    const s = serve({ HES_GATE_CONFIG: 'default', HES_GATE_PORT: '0', HES_GATE_DATA_DIR: join(dir, 'healthy', 'data'), HES_GATE_LOG_LEVEL: 'info' });
    const { url } = await s.until((l) => l.msg === 'hes-gate is serving');
    const body = (await (await fetch(`${url}/readyz`)).json()) as Readyz;
    expect(body.checks['journal']).toEqual({ ok: true, detail: 'recording: 0 decisions written since start, 0 dropped' });
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^hes_gate_journal_up 1$/m);
    expect(await stop(s.child)).toBe(0);
  }, 60_000);

  it('a ministry host that does not resolve: serve starts, logs config.problem once, /readyz shows the ministry address', async () => {
    const s = serve({
      HES_GATE_CONFIG: 'test',
      HES_GATE_HOST: '127.0.0.1',
      HES_GATE_PORT: '0',
      HES_GATE_DATA_DIR: join(dir, 'unresolved', 'data'),
      HES_GATE_LOG_LEVEL: 'info',
      HES_GATE_MINISTRY_URL: 'https://hesservis.invalid/services/g2g/test/saglik/hes/',
      HES_GATE_MINISTRY_USER: 'ORG-G2G-HES',
      HES_GATE_MINISTRY_PASSWORD: 'not-a-real-password',
    });
    const { url } = await s.until((l) => l.msg === 'hes-gate is serving');
    const problem = await s.until((l) => l.event === 'config.problem' && l.key === 'ministry.baseUrl');
    expect(problem.level).toBe(40);
    const body = (await (await fetch(`${url}/readyz`)).json()) as Readyz;
    expect(body.checks['ministry address']).toEqual({ ok: false, detail: expect.stringMatching(/^hesservis\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)\): check DNS/) as unknown as string });
    expect(await stop(s.child)).toBe(0);
  }, 60_000);

  it('a reader whose port is missing: one device.state warning, and a normal stop closes it at info (issue 22)', async () => {
    const base = join(dir, 'device');
    mkdirSync(base, { recursive: true });
    const config = join(base, 'station.json');
    writeFileSync(config, JSON.stringify({ gates: { list: [{ id: 'G1', group: 'north', reader: { path: join(base, 'no-such-tty'), profile: 'hex-uid' } }] } }));
    const s = serve({ HES_GATE_CONFIG: config, HES_GATE_PORT: '0', HES_GATE_DATA_DIR: join(base, 'data'), HES_GATE_LOG_LEVEL: 'info' });
    await s.until((l) => l.msg === 'hes-gate is serving');
    const missing = await s.until((l) => l.event === 'device.state');
    expect(missing).toMatchObject({ level: 40, state: 'reconnecting' });
    expect(await stop(s.child)).toBe(0);
    const states = s.lines.filter((l) => l.event === 'device.state').map((l) => [l.state, l.level]);
    expect(states).toEqual([['reconnecting', 40], ['closed', 30]]);
  }, 60_000);
});
