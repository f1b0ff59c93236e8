/**
 * End to end with a real Prometheus (Debian's `prometheus`): it scrapes a running station
 * (embedded simulator, a card reader on a pseudo-terminal, a gate controller whose line is
 * missing) every second and evaluates the shipped rules with short `for` durations. Every
 * recording rule and every dashboard query must return series through Prometheus's HTTP API;
 * with the simulator hanging, the ministry alert goes pending, then firing, and resolves after.
 * Nothing sleeps: each step polls Prometheus's API until the state it waits for arrives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from '../http/helpers.js';
import { describeSerial, Peer, startPtyPair, type PtyPair } from '../devices/pty.js';
import { concrete, dashboardQueries, describeWith, isCityQuery, PROMETHEUS_DIR, recordedNames } from './promtool.js';

const STATION = 'e2e-station';
const ADMIN = 'admin-token-e2e';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns a value (not undefined); fails with `what` after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describeWith('prometheus', 'a real Prometheus scraping a station', () => {
  describeSerial('with the shipped rules and dashboards', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-prom-'));
    const pairs: PtyPair[] = [];
    let reader: Peer;
    let t: Awaited<ReturnType<typeof startTestGate>>;
    let prom: ChildProcess;
    let promUrl = '';
    let promLog = '';
    const seen = new Set<string>();
    const queries = [...recordedNames(), ...dashboardQueries().filter((q) => !isCityQuery(q.expr)).map((q) => concrete(q.expr, STATION, '5s'))];

    const query = async (expr: string): Promise<unknown[]> => {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; data?: { result: unknown[] }; error?: string };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
      return body.data!.result;
    };
    /** Runs every query once, remembering those that returned series. */
    const sweep = async (): Promise<void> => {
      for (const q of queries) if (!seen.has(q) && (await query(q)).length > 0) seen.add(q);
    };
    const alertOf = async (name: string): Promise<{ state: string; annotations: Record<string, string> } | undefined> => {
      const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: { alertname: string; station?: string }; state: string; annotations: Record<string, string> }> } };
      return body.data.alerts.find((a) => a.labels.alertname === name && a.labels.station === STATION);
    };
    const alertState = async (name: string): Promise<string> => (await alertOf(name))?.state ?? 'inactive';
    let fresh = 0;
    /** A syntactically valid code the simulator does not hold: always a ministry call. */
    const newCode = (): string => `Z${String(++fresh).padStart(9, '0')}`;

    beforeAll(async () => {
      pairs.push(await startPtyPair(join(dir, 'card'), join(dir, 'card-peer')));
      t = await startTestGate(
        {
          ministry: { headersTimeoutMs: 200, bodyTimeoutMs: 200, connectTimeoutMs: 200 },
          resilience: { baseEjectionMs: 200, maxEjectionMs: 400, maxRetries: 0 },
          refresher: { enabled: true, callsPerSecond: 50 },
          gates: {
            list: [
              {
                id: 'N1',
                readers: [{ id: 'N1/card', path: join(dir, 'card'), profile: 'hex-uid' }],
                // A controller whose serial line does not exist: the station runs, the device is down.
                controller: { path: join(dir, 'no-such-gate'), profile: 'text-gate', passage: 'A' },
              },
            ],
          },
        },
        { HES_GATE_ADMIN_TOKEN: ADMIN },
      );
      reader = await Peer.open(join(dir, 'card-peer'));

      const target = new URL(t.url).host;
      const recording = readFileSync(join(PROMETHEUS_DIR, 'rules', 'hes-gate-recording.yml'), 'utf8').replace(/interval: \d+[smh]/g, 'interval: 1s');
      const alerts = readFileSync(join(PROMETHEUS_DIR, 'rules', 'hes-gate-alerts.yml'), 'utf8').replace(/for: \d+[smh]/g, 'for: 2s');
      writeFileSync(join(dir, 'recording.yml'), recording);
      writeFileSync(join(dir, 'alerts.yml'), alerts);
      writeFileSync(
        join(dir, 'prometheus.yml'),
        [
          // The runbook links' base (docs/operations.md): absolute, where the city serves the docs.
          'global: { scrape_interval: 1s, evaluation_interval: 1s, external_labels: { hes_gate_docs_url: "https://docs.city.example/hes-gate" } }',
          'rule_files: [recording.yml, alerts.yml]',
          'scrape_configs:',
          '  - job_name: hes-gate',
          '    static_configs:',
          `      - targets: ["${target}"]`,
          `        labels: { station: ${STATION} }`,
          '',
        ].join('\n'),
      );
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
      prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
      prom.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
      await until('Prometheus to be ready', async () => {
        if (prom.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
        return fetch(`${promUrl}/-/ready`).then((r) => (r.ok ? true : undefined), () => undefined);
      });
    }, 60_000);

    afterAll(async () => {
      if (prom && prom.exitCode === null) {
        const exited = new Promise((r) => prom.once('exit', r));
        prom.kill('SIGTERM');
        await exited;
      }
      await t?.gate.close();
      await reader?.close();
      for (const p of pairs) await p.kill();
    });

    it('scrapes the station and answers every recording rule and dashboard query', async () => {
      // Traffic of every kind the dashboards show: HES codes, a bound card (over HTTP and on the
      // serial reader), an unconfigured gate, garbage on the serial line, a refresher rotation.
      const card = '04A1B2C3D4E5F6';
      const put = await fetch(`${t.url}/v1/cards/${card}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode: SAMPLE.RISKLESS }) });
      expect(put.status).toBe(201);
      await until('the ministry failing once, for the failure panels', async () => {
        t.gate.simulator!.setFaults({ status: 503 });
        await t.post({ gate: 'N1', hesCode: newCode() });
        t.gate.simulator!.resetFaults();
        return (await query(`hes_gate_ministry_calls_total{station="${STATION}", outcome=~"HG_.*"}`)).length > 0 ? true : undefined;
      });
      await until('every query to return series', async () => {
        for (const code of [SAMPLE.RISKLESS, SAMPLE.RISKY, newCode()]) await t.post({ gate: 'N1', hesCode: code });
        await t.post({ gate: 'somewhere-else', hesCode: SAMPLE.RISKLESS });
        await t.post({ gate: 'N1', card });
        await reader.write(`${card}\r\n`);
        await reader.write('\u0007\u0007not-a-card\r\n');
        await sweep();
        return seen.size === queries.length ? true : undefined;
      }, 60_000).catch((err: Error) => {
        throw new Error(`${err.message}; never returned series:\n${queries.filter((q) => !seen.has(q)).join('\n')}`);
      });
      const up = (await query(`up{job="hes-gate", station="${STATION}"}`)) as Array<{ value: [number, string] }>;
      expect(up[0]!.value[1]).toBe('1');
    }, 90_000);

    it('fires the ministry alert while the simulator hangs, and resolves it after', async () => {
      expect(await alertState('HesGateMinistryDown')).toBe('inactive');
      t.gate.simulator!.setFaults({ hang: true });
      const states = new Set<string>();
      await until('HesGateMinistryDown to fire', async () => {
        await t.post({ gate: 'N1', hesCode: newCode() });
        const s = await alertState('HesGateMinistryDown');
        states.add(s);
        return s === 'firing' ? true : undefined;
      });
      expect(states.has('pending')).toBe(true);
      expect((await alertOf('HesGateMinistryDown'))?.annotations['runbook_url']).toBe('https://docs.city.example/hes-gate/runbook.md#hesgateministrydown');
      t.gate.simulator!.resetFaults();
      await until('HesGateMinistryDown to resolve', async () => {
        await t.post({ gate: 'N1', hesCode: newCode() });
        return (await alertState('HesGateMinistryDown')) === 'inactive' ? true : undefined;
      });
    }, 90_000);
  });
});
