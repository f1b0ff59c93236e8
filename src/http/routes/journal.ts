/**
 * The decision journal over HTTP (admin token): what gate N1 did at 08:14.
 *
 *   GET /v1/journal?from&to&gate&verdict&reason&limit&after   → {entries, next}
 *   GET /v1/journal/summary?from&to                           → per-gate counts and latency
 *
 * Times are ISO 8601 or ms since the epoch. Every query runs in the journal's worker thread.
 */
import type { FastifyInstance } from 'fastify';
import { HesGateError } from '../../errors.js';
import type { Secret } from '../../config/sensitive-value.js';
import type { Journal } from '../../journal/journal.js';
import type { JournalEntry, JournalQuery } from '../../journal/types.js';
import { bearerGuard } from '../auth.js';
import type { Clock } from '../../types.js';

export interface JournalRoutesOptions {
  journal: Journal | null;
  adminToken: Secret | null | undefined;
  clock: Clock;
}

const VERDICTS = ['pass', 'deny'];
const REASON = /^[A-Z_]{1,40}$/;
/** A gate id; a vehicle's uploaded decisions are journaled as `<vehicle>/<gate>` (up to 129 characters). */
const GATE = /^[A-Za-z0-9._/-]{1,129}$/;

function time(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 40) throw new HesGateError('HG_BAD_REQUEST', `"${name}" must be an ISO 8601 time or ms since the epoch`);
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new HesGateError('HG_BAD_REQUEST', `"${name}" must be an ISO 8601 time or ms since the epoch`);
  return ms;
}

function pattern(value: unknown, re: RegExp, name: string, expected: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !re.test(value)) throw new HesGateError('HG_BAD_REQUEST', `"${name}" must be ${expected}`);
  return value;
}

function integer(value: unknown, name: string, min: number, max: number, def: number | undefined): number | undefined {
  if (value === undefined) return def;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new HesGateError('HG_BAD_REQUEST', `"${name}" must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

const KNOWN = new Set(['from', 'to', 'gate', 'verdict', 'reason', 'limit', 'after']);

export function parseJournalQuery(q: Record<string, unknown>): JournalQuery {
  // Name no user-supplied text: an unknown parameter is reported without its name.
  if (Object.keys(q).some((k) => !KNOWN.has(k))) throw new HesGateError('HG_BAD_REQUEST', `unknown query parameter; expected ${[...KNOWN].join(', ')}`);
  const verdict = pattern(q['verdict'], /^(pass|deny)$/, 'verdict', VERDICTS.join(' or '));
  const out: JournalQuery = { limit: integer(q['limit'], 'limit', 1, 1000, 100)! };
  const from = time(q['from'], 'from');
  const to = time(q['to'], 'to');
  const gate = pattern(q['gate'], GATE, 'gate', 'a gate id');
  const reason = pattern(q['reason'], REASON, 'reason', 'a reason code such as RISKY');
  const after = integer(q['after'], 'after', 0, Number.MAX_SAFE_INTEGER, undefined);
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  if (gate !== undefined) out.gate = gate;
  if (verdict !== undefined) out.verdict = verdict as JournalQuery['verdict'];
  if (reason !== undefined) out.reason = reason as JournalQuery['reason'];
  if (after !== undefined) out.after = after;
  return out;
}

/** A journal record as the API and the export show it: ISO time, no internal ids. */
export function presentEntry(e: JournalEntry, station: string): Record<string, unknown> {
  return { at: new Date(e.at).toISOString(), station, gate: e.gate, reader: e.reader, kind: e.kind, verdict: e.verdict, reason: e.reason, source: e.source, elapsedMs: e.elapsedMs, decisionId: e.decisionId };
}

export async function journalRoutes(app: FastifyInstance, opts: JournalRoutesOptions & { station: string }): Promise<void> {
  const { journal, clock, station } = opts;
  if (opts.adminToken) {
    app.addHook('onRequest', bearerGuard(opts.adminToken, 'decision journal'));
  } else {
    app.addHook('onRequest', async () => {
      throw new HesGateError('HG_UNAUTHORIZED', 'the decision journal API is disabled: no admin token is configured (set HES_GATE_ADMIN_TOKEN)');
    });
  }
  const open = (): Journal => {
    if (journal === null) throw new HesGateError('HG_JOURNAL', 'the decision journal is disabled (journal.enabled is false)');
    return journal;
  };

  app.get('/v1/journal', async (req) => {
    const query = parseJournalQuery(req.query as Record<string, unknown>);
    const page = await open().query(query);
    return { entries: page.entries.map((e) => presentEntry(e, station)), next: page.next === null ? null : String(page.next) };
  });

  app.get('/v1/journal/summary', async (req) => {
    const q = req.query as Record<string, unknown>;
    if (Object.keys(q).some((k) => k !== 'from' && k !== 'to')) throw new HesGateError('HG_BAD_REQUEST', 'unknown query parameter; expected from, to');
    const now = clock();
    const from = time(q['from'], 'from') ?? now - 86_400_000;
    const to = time(q['to'], 'to') ?? now + 1;
    return { station, from: new Date(from).toISOString(), to: new Date(to).toISOString(), gates: await open().summary(from, to) };
  });
}
