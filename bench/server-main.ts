/**
 * The server under test, in its own process, so the load generator never shares its event
 * loop. Forked by child.ts; speaks to its parent over IPC only.
 *
 *   node dist/bench/server-main.js gate   a whole hes-gate (startHesGate) with its embedded simulator
 *   node dist/bench/server-main.js bare   the baseline: bare fastify 5, the same POST route shape
 *   node dist/bench/server-main.js stub   a minimal node:http "ministry" answering check-hes-code
 *
 *   parent <── {type:'ready', url} ─── child
 *   parent ─── {id, cmd, arg} ───────> child ──> {id, ok, value | error}
 *
 *   node dist/bench/server-main.js gate-nojournal   the same with the decision journal off
 *
 * Commands: cpu, mem, close (any mode); faults, counts, set-code, gate-state, journal-stats (gate only).
 *
 * `gate` opens a fresh temp data dir (removed on close), or the one named by
 * `BENCH_GATE_DATA_DIR` (or a second argument), which is left in place: card-taps.ts fills a
 * store with bindings first and hands it over this way.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { loadConfig } from '../src/config/load.js';
import { startHesGate, type HesGate } from '../src/hes-gate.js';
import { createLogger } from '../src/ops/logger.js';
import type { Faults, SampleCode } from '../src/simulator/index.js';
import { bodySchema, responseSchema } from '../src/http/routes/decisions.js';

export type ServerMode = 'gate' | 'gate-nojournal' | 'bare' | 'stub';

export interface ChildRequest {
  id: number;
  cmd: 'cpu' | 'mem' | 'close' | 'faults' | 'counts' | 'set-code' | 'gate-state' | 'journal-stats';
  arg?: unknown;
}

/** The body the stub answers: what the ministry sends for a RISKLESS code shared without limit. */
export const STUB_ANSWER = JSON.stringify({
  current_health_status: 'RISKLESS',
  expiration_date: '2070-12-31T20:59:59.000Z',
  masked_identity_number: '********792',
  masked_firstname: 'DE****',
  masked_lastname: 'DE**** ',
});

/** The bare route answers a constant id: generating one is hes-gate's work, not fastify's. */
const FIXED_ID = '5f0c3a52-9d7e-4d59-8a43-3b1a6f1f2c11';

interface Running {
  url: string;
  handle(cmd: ChildRequest['cmd'], arg: unknown): unknown;
  close(): Promise<void>;
}

async function startGate(journal = true): Promise<Running> {
  const given = process.argv[3] ?? process.env['BENCH_GATE_DATA_DIR'];
  const owned = given === undefined || given === '';
  const dataDir = owned ? mkdtempSync(join(tmpdir(), 'hg-bench-gate-')) : given;
  const loaded = loadConfig({
    noFile: true,
    env: { HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir },
    overrides: { log: { level: 'silent' }, journal: { enabled: journal } },
  });
  const gate: HesGate = await startHesGate(loaded, { logger: createLogger('silent') });
  // Card taps read the in-memory binding index once it is read (taps read the file until then):
  // a figure of card taps measures the station as it runs, not its first seconds.
  await gate.cards.whenIndexed();
  const sim = gate.simulator!;
  return {
    url: gate.url!,
    handle(cmd, arg) {
      switch (cmd) {
        case 'faults':
          return sim.setFaults(arg as Partial<Faults>);
        case 'counts':
          return sim.counts();
        case 'set-code': {
          const c = arg as SampleCode;
          sim.setCode(c.code, c);
          return true;
        }
        case 'journal-stats':
          return gate.journal === null ? null : gate.journal.drain().then(() => gate.journal!.stats());
        case 'gate-state':
          return { status: { ...gate.status.counters, size: gate.status.size, inflight: gate.status.inflightCount }, guard: gate.ministry.snapshot() };
        default:
          throw new Error(`gate: unknown command ${cmd}`);
      }
    },
    async close() {
      sim.resetFaults();
      await gate.close();
      if (owned) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startBare(): Promise<Running> {
  // The same server options hes-gate's createHttpApp passes, logging silent like the gate's.
  const app = Fastify({
    logger: { level: 'silent' },
    disableRequestLogging: true,
    bodyLimit: 8192,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false } },
  });
  app.post<{ Body: { gate: string; hesCode?: string } }>('/v1/decisions', { schema: { body: bodySchema, response: responseSchema } }, async (req) => ({
    verdict: req.body.hesCode === undefined ? 'deny' : 'pass',
    reason: 'RISKLESS',
    source: 'cache',
    decisionId: FIXED_ID,
    elapsedMs: 0.012,
  }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    handle(cmd) {
      throw new Error(`bare: unknown command ${cmd}`);
    },
    close: () => app.close(),
  };
}

async function startStub(): Promise<Running> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(STUB_ANSWER) });
      res.end(STUB_ANSWER);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    handle(cmd) {
      throw new Error(`stub: unknown command ${cmd}`);
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const mode = process.argv[2] as ServerMode;
  const send = (m: unknown) => process.send?.(m);
  const running = mode === 'gate' ? await startGate() : mode === 'gate-nojournal' ? await startGate(false) : mode === 'bare' ? await startBare() : mode === 'stub' ? await startStub() : null;
  if (running === null) throw new Error(`server-main: mode must be gate, bare or stub, got ${mode}`);
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await running.close().catch(() => undefined);
    // process.exit (not a kill) so --cpu-prof and friends can write their files.
    process.exit(code);
  };
  process.on('message', (m: ChildRequest) => {
    void (async () => {
      try {
        let value: unknown;
        if (m.cmd === 'cpu') value = process.cpuUsage();
        else if (m.cmd === 'mem') value = process.memoryUsage();
        else if (m.cmd === 'close') {
          send({ id: m.id, ok: true, value: null });
          await shutdown(0);
          return;
        } else value = await running.handle(m.cmd, m.arg);
        send({ id: m.id, ok: true, value });
      } catch (err) {
        send({ id: m.id, ok: false, error: String(err) });
      }
    })();
  });
  process.on('disconnect', () => void shutdown(0));
  send({ type: 'ready', url: running.url, pid: process.pid });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
