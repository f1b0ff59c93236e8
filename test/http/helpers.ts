import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { startHesGate, type HesGate } from '../../src/hes-gate.js';
import { createLogger } from '../../src/ops/logger.js';

/** Every log line the service wrote, parsed, so tests can assert on fields (and on absences). */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.length === 0) continue;
      this.raw.push(line);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      this.lines.push(parsed);
      this.emit('line', parsed);
    }
    cb();
  }
}

/**
 * A whole hes-gate on loopback with its embedded simulator, configured like an operator
 * would (a config object + HES_GATE_* variables), on ephemeral ports and a temp data dir.
 */
export async function startTestGate(
  overrides: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<{ gate: HesGate; url: string; logs: LogCapture; post: (body: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any; ms: number }> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hes-gate-test-'));
  // A station-sized cache preallocates its table by `maxEntries` (tens of MB per gate);
  // tests start dozens of gates, and that garbage would show up as GC pauses in timed tests.
  const cache = { maxEntries: 10_000, ...((overrides.cache as Record<string, unknown> | undefined) ?? {}) };
  // These gates test behaviour, not overload, on a machine shared with other test processes whose
  // scheduling (and vitest's own module loading) makes the event loop late by up to seconds at
  // times: shedding for a late or saturated loop is off unless a test sets it
  // (test/hardening/overload*.test.ts does).
  const limits = { maxEventLoopDelayMs: 10_000, maxEventLoopUtilization: 1, ...((overrides.limits as Record<string, unknown> | undefined) ?? {}) };
  const loaded = loadConfig({
    noFile: true,
    env: { HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir, ...env },
    overrides: { ...overrides, cache, limits },
  });
  const logs = new LogCapture();
  // At the configured level (info unless HES_GATE_LOG_LEVEL says otherwise): a test may read debug lines.
  const gate = await startHesGate(loaded, { logger: createLogger(loaded.config.log.level, logs) });
  const url = gate.url!;
  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const started = performance.now();
    const res = await fetch(`${url}/v1/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* keep text */
    }
    return { status: res.status, body: parsed, ms };
  };
  return { gate, url, logs, post };
}
