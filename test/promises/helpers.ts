/**
 * Helpers for the promise tests: waiting on the JSON log lines a running hes-gate writes (an
 * operator-visible surface that survives refactors of the modules behind it), and device profiles
 * made for a test.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogCapture } from '../http/helpers.js';

export type LogLine = Record<string, unknown>;

/**
 * The first log line matching `match`: one already written, or the next one to come. Fails
 * after `timeoutMs` with the messages seen, so a missing line says what happened instead.
 */
export function logLine(logs: LogCapture, match: (line: LogLine) => boolean, timeoutMs = 5000): Promise<LogLine> {
  const seen = logs.lines.find(match);
  if (seen !== undefined) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const listener = (line: LogLine) => {
      if (!match(line)) return;
      clearTimeout(timer);
      logs.off('line', listener);
      resolve(line);
    };
    const timer = setTimeout(() => {
      logs.off('line', listener);
      reject(new Error(`no matching log line within ${timeoutMs} ms; saw: ${logs.lines.map((l) => String(l.msg)).join(' | ')}`));
    }, timeoutMs);
    logs.on('line', listener);
  });
}

/** The first `n` log lines matching `match`, those already written included. */
export function logLines(logs: LogCapture, match: (line: LogLine) => boolean, n: number, timeoutMs = 5000): Promise<LogLine[]> {
  const found = logs.lines.filter(match);
  if (found.length >= n) return Promise.resolve(found.slice(0, n));
  return new Promise((resolve, reject) => {
    const listener = (line: LogLine) => {
      if (!match(line)) return;
      found.push(line);
      if (found.length < n) return;
      clearTimeout(timer);
      logs.off('line', listener);
      resolve(found);
    };
    const timer = setTimeout(() => {
      logs.off('line', listener);
      reject(new Error(`${found.length} of ${n} matching log lines within ${timeoutMs} ms`));
    }, timeoutMs);
    logs.on('line', listener);
  });
}

export const ADMIN_TOKEN = 'admin-token-for-promise-tests';

/** Bind a card through the card admin API of a running gate. */
export async function bindCard(url: string, cardId: string, hesCode: string): Promise<void> {
  const res = await fetch(`${url}/v1/cards/${cardId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ hesCode }),
  });
  if (res.status !== 201) throw new Error(`binding ${cardId} answered ${res.status}: ${await res.text()}`);
}

/** The shipped profiles, with the Modbus relay's pulses stretched to the longest allowed. */
export function profilesWithLongPulses(dir: string): string {
  const devicesDir = join(dir, 'devices');
  cpSync('devices', devicesDir, { recursive: true });
  const file = join(devicesDir, 'modbus-relay.json');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { open: { pulseMs: number }; deny: { pulseMs: number } };
  profile.open.pulseMs = 60_000;
  profile.deny.pulseMs = 60_000;
  writeFileSync(file, JSON.stringify(profile));
  return devicesDir;
}
