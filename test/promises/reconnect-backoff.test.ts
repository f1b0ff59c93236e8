/**
 * Promise: a serial port that keeps failing is retried with a back-off that grows (250 ms, then
 * 500 ms, then 1 s … by default), so a dead USB reader does not make the station spin on open
 * attempts. Read from the debug lines the running gate writes for every failed attempt (the
 * warning is logged once, when the retries begin); only lower
 * bounds are asserted (a timer never fires early), so a busy machine cannot fail this test.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestGate } from '../http/helpers.js';
import { logLines, type LogLine } from './helpers.js';

/** A log line's time in epoch ms (pino writes ISO times with millisecond precision). */
const at = (line: LogLine): number => (typeof line.time === 'number' ? line.time : Date.parse(String(line.time)));

describe('reconnecting a serial port', () => {
  it('waits longer after each failed attempt to open a missing reader', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'hes-gate-backoff-')), 'no-such-reader');
    const t = await startTestGate({
      refresher: { enabled: false },
      gates: { list: [{ id: 'N1', readers: [{ id: 'N1/card', path: missing, profile: 'hex-uid' }] }] },
    }, { HES_GATE_LOG_LEVEL: 'debug' });
    try {
      // Attempt 1 failed during start; then a retry after 250 ms, and the next after 500 ms.
      const attempts = await logLines(t.logs, (l) => l.msg === 'device port unavailable; retrying' && l.device === 'N1/card', 3);
      expect(attempts.map((l) => l.attempt)).toEqual([1, 2, 3]);
      const gaps = attempts.slice(1).map((l, i) => at(l) - at(attempts[i]!));
      // Log times are whole milliseconds: allow 1 ms of rounding below each delay.
      expect(gaps[0]).toBeGreaterThanOrEqual(250 - 1);
      expect(gaps[1]).toBeGreaterThanOrEqual(500 - 1);
    } finally {
      await t.gate.close();
    }
  });
});
