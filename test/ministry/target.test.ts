/**
 * Which ministry a station speaks to, and what it tells operators about it: the embedded
 * simulator never poses as the ministry (whatever HES_GATE_ENVIRONMENT says), listens on
 * loopback only, and a configured ministry that refuses the credentials makes the station not
 * ready at once — found by the start-up probe, not by the first taps. Real app (startHesGate),
 * real simulator over HTTP.
 */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { HesGateError } from '../../src/errors.js';
import { startHesGate } from '../../src/hes-gate.js';
import { PROBE_CODE } from '../../src/ministry/credentials-probe.js';
import { ministryEnvironment, openMinistryTarget } from '../../src/ministry/target.js';
import { isLoopbackHost, startEmbeddedSimulator } from '../../src/simulator/embedded.js';
import { createLogger } from '../../src/ops/logger.js';
import { SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator, type SimulatorRequestEvent } from '../../src/simulator/index.js';
import { LogCapture, startTestGate } from '../http/helpers.js';
import { SseReader } from '../live/helpers.js';
import type { LiveSnapshot } from '../../src/ops/live-wire.js';

const ADMIN = 'operator-secret-token';

describe('the embedded simulator never poses as the ministry', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    // An operator who copied a live environment file but has no ministry address yet.
    t = await startTestGate({ refresher: { enabled: false } }, { HES_GATE_ENVIRONMENT: 'live', HES_GATE_ADMIN_TOKEN: ADMIN });
  });
  afterAll(async () => {
    await t?.gate.close();
  });

  it('reads `simulator` in /readyz, the live page, the metrics and the logs, although HES_GATE_ENVIRONMENT says live', async () => {
    expect(t.gate.config.environment).toBe('live');
    expect(t.gate.environment).toBe('simulator');

    const ready = (await (await fetch(`${t.url}/readyz`)).json()) as { checks: Record<string, { detail: string }> };
    expect(ready.checks.config!.detail).toBe('simulator environment');
    expect(JSON.stringify(ready)).not.toMatch(/live/);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^hes_gate_ministry_environment_info\{environment="simulator"\} 1$/m);
    expect(metrics).not.toMatch(/environment="live"/);

    const res = await fetch(`${t.url}/v1/live/events`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const sse = new SseReader(res.body!);
    const [snapshot] = (await sse.waitFor('snapshot')) as LiveSnapshot[];
    expect(snapshot!.environment).toBe('simulator');

    const withEnvironment = t.logs.lines.filter((l) => 'environment' in l);
    expect(withEnvironment.map((l) => l.msg)).toEqual(expect.arrayContaining(['ministry: embedded simulator (sample codes, no real data)', 'hes-gate is serving']));
    for (const l of withEnvironment) expect(l.environment, String(l.msg)).toBe('simulator');
  });

  it('the one target selection gives check and selftest the same answer', async () => {
    const { config } = loadConfig({ noFile: true, env: { HES_GATE_ENVIRONMENT: 'test' } });
    expect(ministryEnvironment(config)).toBe('simulator');
    const target = await openMinistryTarget(config, { simulatorPort: 0, embedded: startEmbeddedSimulator });
    try {
      expect(target).toMatchObject({ environment: 'simulator', user: SIMULATOR_USER, credentialsSet: true });
      expect(target.simulator).not.toBeNull();
      const client = target.createClient();
      expect((await client.checkHesCode(PROBE_CODE)).kind).toBe('not-found');
      await client.close();
    } finally {
      await target.close();
    }
  });
});

describe('a station pointed at `hes-gate simulate` never poses as the ministry either (issue 20)', () => {
  let sim: Simulator;
  let t: Awaited<ReturnType<typeof startTestGate>> | undefined;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0 });
  });
  afterAll(async () => {
    await t?.gate.close();
    await sim.close();
  });

  it('its live path, with the simulator\'s own credentials, reads `simulator` in /readyz, the metrics and the logs', async () => {
    expect(sim.liveUrl).toMatch(/\/g2g\/saglik\/hes\/$/);
    t = await startTestGate({ refresher: { enabled: false } }, { HES_GATE_MINISTRY_URL: sim.liveUrl, HES_GATE_MINISTRY_USER: SIMULATOR_USER, HES_GATE_MINISTRY_PASSWORD: SIMULATOR_PASSWORD });
    expect(t.gate.config.environment).toBe('live'); // what the path alone says
    expect(t.gate.environment).toBe('simulator');
    const ready = (await (await fetch(`${t.url}/readyz`)).json()) as { checks: Record<string, { detail: string }> };
    expect(ready.checks.config!.detail).toBe('simulator environment');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^hes_gate_ministry_environment_info\{environment="simulator"\} 1$/m);
    expect(metrics).not.toMatch(/environment="live"/);
    for (const l of t.logs.lines.filter((line) => 'environment' in line)) expect(l.environment, String(l.msg)).toBe('simulator');
    expect((await t.post({ gate: 'G1', hesCode: 'A1B2345678' })).body).toMatchObject({ verdict: 'pass', source: 'ministry' });
  });

  it('other credentials at the same address keep the configured environment', () => {
    const other = loadConfig({ noFile: true, env: { HES_GATE_MINISTRY_URL: sim.liveUrl, HES_GATE_MINISTRY_USER: 'ORG-G2G-HES', HES_GATE_MINISTRY_PASSWORD: SIMULATOR_PASSWORD } }).config;
    expect(ministryEnvironment(other)).toBe('live');
  });
});

describe('the embedded simulator listens on loopback only', () => {
  it.each(['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(['0.0.0.0', '::', '192.0.2.2', 'example.org', '127.0.0.1.example.org', 'localhost.example.org', '::ffff:10.0.0.1'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses simulator.host 0.0.0.0 at start with a coded error naming the key, and starts nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hes-gate-target-'));
    const loaded = loadConfig({ noFile: true, env: { HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir }, overrides: { simulator: { host: '0.0.0.0' } } });
    const err = await startHesGate(loaded, { logger: createLogger('silent') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HesGateError);
    expect(err).toMatchObject({ code: 'HG_CONFIG_INVALID', details: { key: 'simulator.host' } });
    expect((err as Error).message).toMatch(/loopback/);
  });

  it('a configured ministry address needs no simulator, whatever simulator.host says', async () => {
    const sim = await startSimulator();
    try {
      const { config } = loadConfig({ noFile: true, env: { HES_GATE_MINISTRY_URL: sim.url }, overrides: { simulator: { host: '0.0.0.0' } } });
      const target = await openMinistryTarget(config, { embedded: startEmbeddedSimulator });
      expect(target).toMatchObject({ environment: 'test', baseUrl: sim.url, simulator: null, credentialsSet: false });
      await target.close();
    } finally {
      await sim.close();
    }
  });
});

describe('credentials are checked at start', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  async function startAgainst(password: string, ministryUrl = sim.url, ministry: Record<string, unknown> = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'hes-gate-probe-'));
    const loaded = loadConfig({
      noFile: true,
      env: { HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir, HES_GATE_MINISTRY_URL: ministryUrl, HES_GATE_MINISTRY_USER: SIMULATOR_USER, HES_GATE_MINISTRY_PASSWORD: password },
      overrides: { refresher: { enabled: false }, cache: { maxEntries: 10_000 }, ministry },
    });
    const logs = new LogCapture();
    const gate = await startHesGate(loaded, { logger: createLogger('info', logs) });
    return { gate, logs };
  }

  it('wrong credentials: not ready at once, with a clear detail and one log line, before any tap', async () => {
    sim.resetCounts();
    const { gate, logs } = await startAgainst('not-the-password');
    try {
      expect(await gate.credentialsProbe).toBe('refused');
      const res = await fetch(`${gate.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail: string }> };
      expect(body.status).toBe('not-ready');
      expect(body.checks.ministry).toEqual({ ok: false, detail: expect.stringMatching(/refused the credentials.*HES_GATE_MINISTRY_USER/) });
      expect(body.checks.config!.detail).toBe('test environment');
      expect(sim.counts().total).toBe(1);

      const refused = logs.lines.filter((l) => /refused the credentials/.test(String(l.msg)));
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ level: 50, environment: 'test' });
      // Taps refused the same way add no more lines: the station already said it.
      await fetch(`${gate.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"gate":"G1","hesCode":"A1B2345678"}' });
      expect(logs.lines.filter((l) => /refused the credentials/.test(String(l.msg)))).toHaveLength(1);
      expect(logs.raw.join('\n')).not.toContain('not-the-password');
    } finally {
      await gate.close();
    }
  });

  it('right credentials: ready, and the probe says so in one info line', async () => {
    const { gate, logs } = await startAgainst(SIMULATOR_PASSWORD);
    try {
      expect(await gate.credentialsProbe).toBe('accepted');
      const res = await fetch(`${gate.url}/readyz`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { checks: Record<string, { ok: boolean; detail: string }> }).checks.ministry).toMatchObject({ ok: true, detail: 'up, circuit closed' });
      expect(logs.lines.filter((l) => l.msg === 'ministry: credentials accepted')).toHaveLength(1);
    } finally {
      await gate.close();
    }
  });

  it('the probe does not delay listening: with the ministry hanging, the station serves and is ready meanwhile', async () => {
    const hung = await startSimulator();
    hung.setFaults({ hang: true });
    const arrived = once(hung, 'request') as Promise<[SimulatorRequestEvent]>;
    // A long header timeout, so only the simulator going away (below) can end the probe.
    const { gate } = await startAgainst('not-the-password', hung.url, { headersTimeoutMs: 60_000 });
    try {
      let settled = false;
      void gate.credentialsProbe.then(() => (settled = true));
      const [request] = await arrived;
      expect(request.codes).toEqual([PROBE_CODE]);
      // The station answers already, while the probe still waits on the hung ministry.
      const res = await fetch(`${gate.url}/readyz`);
      expect(res.status).toBe(200);
      const decision = await fetch(`${gate.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"gate":"G1","hesCode":"A1B2345678"}' });
      expect(decision.status).toBe(200);
      expect(settled).toBe(false);
      // A ministry that goes away ends the probe with "unknown", not a refusal.
      await hung.close();
      expect(await gate.credentialsProbe).toBe('unknown');
    } finally {
      await gate.close();
      await hung.close();
    }
  });

  it('the embedded simulator is not probed: its credentials are its own', async () => {
    const t = await startTestGate({ refresher: { enabled: false } });
    try {
      expect(await t.gate.credentialsProbe).toBe('skipped');
      expect(t.gate.simulator!.counts().total).toBe(0);
    } finally {
      await t.gate.close();
    }
  });
});
