/**
 * The real `hes-gate` process, as an operator runs it, from the current sources (test/cli/cli.ts:
 * never a stale or missing dist/).
 */
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { startCli } from './cli.js';

/** The embedded simulator's control API token (HES_GATE_SIMULATOR_TOKEN), for switching its faults. */
const SIM_TOKEN = 'serve-test-control-token';

describe('hes-gate serve', () => {
  it('serves decisions, then on SIGTERM answers what is in flight and exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hes-gate-serve-'));
    const child = startCli(['serve'], {
      env: { ...process.env, HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir, HES_GATE_CONFIG: 'default', HES_GATE_LOG_LEVEL: 'info', HES_GATE_SIMULATOR_TOKEN: SIM_TOKEN },
    });
    const lines: Array<Record<string, unknown>> = [];
    const url = await new Promise<string>((resolveUrl, reject) => {
      const rl = createInterface({ input: child.stdout! });
      rl.on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'hes-gate is serving') resolveUrl(String(entry.url));
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });

    // Warm the path, then keep the ministry slow so a decision is in flight when the signal arrives.
    await fetch(`${url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"gate":"G1","hesCode":"E5F6789012"}' });
    const sim = lines.find((l) => l.msg?.toString().startsWith('ministry: embedded simulator'))!.baseUrl as string;
    const control = { authorization: `Bearer ${SIM_TOKEN}` };
    await fetch(new URL('/_simulator/faults', sim), { method: 'PUT', headers: control, body: JSON.stringify({ latencyMs: 100 }) });
    const inFlight = fetch(`${url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"gate":"G1","hesCode":"A1B2345678"}' });
    // Signal once the decision's ministry call is under way (the simulator counts it on arrival).
    for (let i = 0; i < 200; i++) {
      const counts = (await (await fetch(new URL('/_simulator/counts', sim), { headers: control })).json()) as { total: number };
      if (counts.total > 0) break;
    }
    child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    // Answered, not dropped: a pass if the ministry made it in time, else the outage policy's decision.
    const body = (await answer.json()) as { verdict: string; decisionId: string };
    expect(body.verdict).toMatch(/^(pass|deny)$/);
    expect(body.decisionId).toBeTruthy();
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(lines.map((l) => l.msg)).toContain('stopped');
  });

  it('refuses a bad configuration with the coded error and exit code 2', async () => {
    const child = startCli(['serve'], { env: { ...process.env, HES_GATE_PORT: 'eighty' } });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(/HG_CONFIG_INVALID: server\.port \(env HES_GATE_PORT\) must be an integer/);
  });

  it('checks one code against the configured ministry with masked output', async () => {
    const child = startCli(['check', 'e5f6-7890-12', '--json'], { env: { ...process.env, HES_GATE_CONFIG: 'default' } });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ code: 'E5F6-****-**', status: 'RISKY', environment: 'simulator' });
    expect(stdout).not.toContain('E5F6789012');
  });

  it('lists the configured station with `hes-gate devices`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-devices-'));
    const config = join(dir, 'station.json');
    writeFileSync(
      config,
      JSON.stringify({
        gates: {
          list: [
            {
              id: 'N1',
              group: 'north',
              reader: { path: '/dev/serial/by-id/usb-Honeywell-if00', profile: 'honeywell-qr' },
              controller: { path: '/dev/ttyUSB1', profile: 'modbus-relay', unit: 1, openCoil: 0 },
            },
          ],
        },
      }),
    );
    const child = startCli(['devices'], { env: { ...process.env, HES_GATE_CONFIG: config } });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    for (const text of ['N1', 'honeywell-qr', 'modbus-relay', '/dev/serial/by-id/usb-Honeywell-if00', 'rdm6300']) expect(stdout).toContain(text);
  });
});
