/**
 * Decisions on time while the ministry hangs: the embedded simulator accepts every request and
 * never answers (`hang`), and every tap carries a new code, so each one misses the cache and
 * must be answered by the gate's deadline (default 150 ms) from its fallback. Open loop at
 * 500/s; each request timed from its intended send time. The gate runs in a child process.
 * Run alone: `node dist/bench/ministry-hang.js [--quick]`.
 */
import { performance } from 'node:perf_hooks';
import { startServer } from './child.js';
import { newHistogram, openLoop, pMs } from './open-loop.js';
import { isMain, ms, runAlone, type BenchOptions, type FigureReport } from './report.js';

const DEADLINE_MS = 150;
const SLACK_MS = 5;

/** A valid, never-seen HES code per request (10 upper-case letters/digits, not in the sample set). */
const newCode = (prefix: string, i: number): string => `${prefix}${i.toString(36).toUpperCase().padStart(8, '0')}`;

export async function benchMinistryHang(o: BenchOptions & { rate?: number; durationMs?: number } = { quick: false }): Promise<FigureReport> {
  const began = performance.now();
  const rate = o.rate ?? 500;
  const durationMs = o.durationMs ?? (o.quick ? 2000 : 5000);
  const gate = await startServer('gate');
  try {
    const common = { url: gate.url, path: '/v1/decisions', rate, connections: 128 };
    // Warm the miss path (parse, lookup, simulator call) while the ministry still answers.
    await openLoop({ ...common, durationMs: 1000, body: (i) => JSON.stringify({ gate: 'G1', hesCode: newCode('WW', i) }) });
    const before = await gate.call<{ total: number }>('counts');
    await gate.call('faults', { hang: true });

    const server = newHistogram();
    const outcomes: Record<string, number> = {};
    const limitMs = DEADLINE_MS + SLACK_MS;
    let onTime = 0;
    let gateOnTime = 0;
    // Answered by the deadline timer (the ministry call still hanging), or earlier: the guard
    // failing fast once its circuit is open.
    let atDeadline = 0;
    let failedFast = 0;
    const r = await openLoop({
      ...common,
      durationMs,
      body: (i) => JSON.stringify({ gate: 'G1', hesCode: newCode('HH', i) }),
      onAnswer: (status, text, latencyMs) => {
        if (status !== 200) return;
        if (latencyMs <= limitMs) onTime++;
        const d = JSON.parse(text) as { verdict: string; reason: string; source: string; elapsedMs: number };
        const k = `${d.verdict}/${d.reason}/${d.source}`;
        outcomes[k] = (outcomes[k] ?? 0) + 1;
        if (d.elapsedMs <= limitMs) gateOnTime++;
        if (d.elapsedMs >= DEADLINE_MS / 2) atDeadline++;
        else failedFast++;
        server.recordValue(Math.max(1, Math.round(d.elapsedMs * 1000)));
      },
    });
    const after = await gate.call<{ total: number }>('counts');
    const state = await gate.call<{ status: Record<string, number>; guard: Record<string, unknown> }>('gate-state');
    const h = r.histogram;
    const within = onTime / r.sent;
    const p = { p50: pMs(h, 50), p99: pMs(h, 99), max: h.maxValue / 1000 };
    const sp = { p50: pMs(server, 50), p99: pMs(server, 99), max: server.maxValue / 1000 };
    const serverWithin = gateOnTime / r.sent;
    console.log(
      `ministry hangs, ${rate}/s new codes for ${durationMs / 1000} s (${r.answered}/${r.sent} answered, ${r.errors} errors, ${r.non2xx} non-2xx):\n` +
        `  client, from intended send: p50 ${ms(p.p50)}  p99 ${ms(p.p99)}  max ${ms(p.max)}  within ${DEADLINE_MS}+${SLACK_MS} ms: ${(within * 100).toFixed(2)} %\n` +
        `  gate's own elapsedMs:       p50 ${ms(sp.p50)}  p99 ${ms(sp.p99)}  max ${ms(sp.max)}  within: ${(serverWithin * 100).toFixed(2)} %\n` +
        `  answered at the deadline ${atDeadline}, earlier (circuit open, failing fast) ${failedFast}\n` +
        `  outcomes ${JSON.stringify(outcomes)}; ministry requests during the hang ${after.total - before.total}; circuit ${String(state.guard['state'])}; ` +
        `generator late sends ${r.lateSends} (worst ${ms(r.maxSendLagMs)})`,
    );
    return {
      name: 'ministry-hang',
      rows: [
        {
          figure: `on time while the ministry hangs (${rate}/s, new codes)`,
          baseline: '—',
          measured: `${(within * 100).toFixed(2)} % ≤ ${DEADLINE_MS + SLACK_MS} ms; p99 ${p.p99.toFixed(1)}, max ${p.max.toFixed(1)} ms`,
          target: `100 % ≤ ${DEADLINE_MS}+${SLACK_MS} ms`,
          met: r.errors === 0 && r.non2xx === 0 && within >= 1,
        },
        {
          figure: '  same, gate-side elapsedMs (arrival → decision)',
          baseline: `${atDeadline} at the deadline, ${failedFast} earlier`,
          measured: `${(serverWithin * 100).toFixed(2)} %; p99 ${sp.p99.toFixed(1)}, max ${sp.max.toFixed(1)} ms`,
          target: `100 % ≤ ${DEADLINE_MS}+${SLACK_MS} ms`,
          met: null,
        },
      ],
      details: {
        rate,
        durationMs,
        deadlineMs: DEADLINE_MS,
        sent: r.sent,
        answered: r.answered,
        errors: r.errors,
        non2xx: r.non2xx,
        shareWithin: within,
        clientMs: p,
        gateElapsedMs: sp,
        gateShareWithin: serverWithin,
        outcomes,
        answeredAtDeadline: atDeadline,
        answeredEarlier: failedFast,
        ministryRequestsDuringHang: after.total - before.total,
        circuit: state.guard,
        statusCounters: state.status,
        lateSends: r.lateSends,
        maxSendLagMs: r.maxSendLagMs,
      },
      durationMs: performance.now() - began,
    };
  } finally {
    await gate.close();
  }
}

if (isMain(import.meta.url)) runAlone(benchMinistryHang);
