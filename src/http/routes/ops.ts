import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Secret } from '../../config/sensitive-value.js';
import { anyTokenGuard } from '../auth.js';
import type { ReadinessCheck } from '../../types.js';

export type { ReadinessCheck };

/**
 * The event loop's delay as a readiness entry. It never makes the service unready — a lagging
 * loop still decides, and sheds what it cannot answer on time — but it is always shown. It says
 * `act:` only for what an operator should act on, each with its threshold beside the figure:
 * decisions shed for a lagging loop within the window (admission sheds a decision that would
 * wait for the ministry while the loop runs more than `shedAboveMs` late), or a pause longer
 * than the shortest gate deadline (a tap waiting behind it was answered late). A fresh station's
 * start-up and garbage collections leave single pauses of tens of ms, and a busy machine a p99
 * over the threshold while every answer comes from the cache: neither cost a passenger anything.
 */
export function eventLoopCheck(
  w: { p50Ms: number; p99Ms: number; maxMs: number; worstMs: number; windowMs: number },
  shedAboveMs: number,
  deadlineMs: number,
  sheds: { sinceMs: number | null; total: number } = { sinceMs: null, total: 0 },
): { ok: boolean; detail: string } {
  const f = (ms: number): string => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
  const span = `over the last ${w.windowMs / 1000} s`;
  const since = `worst since start ${f(w.worstMs)} ms`;
  let detail: string;
  if (sheds.sinceMs !== null && sheds.sinceMs <= w.windowMs) {
    detail = `act: lagging, decisions were shed (503 HG_OVERLOADED): the last ${f(sheds.sinceMs / 1000)} s ago, ${sheds.total} since start, while the loop ran over ${shedAboveMs} ms late (limits.maxEventLoopDelayMs) or was saturated (limits.maxEventLoopUtilization); delay p99 ${f(w.p99Ms)} ms, max ${f(w.maxMs)} ms ${span}; ${since} (docs/overload.md)`;
  } else if (w.maxMs > deadlineMs) {
    detail = `act: stalled, taps behind the pause were late: max ${f(w.maxMs)} ms ${span}, longer than the ${deadlineMs} ms gate deadline; delay p99 ${f(w.p99Ms)} ms; ${since} (docs/overload.md)`;
  } else {
    detail = `on time: max ${f(w.maxMs)} ms (act above the ${deadlineMs} ms gate deadline), delay p99 ${f(w.p99Ms)} ms ${span}; no decision shed (a decision waiting for the ministry is shed while the loop runs over ${shedAboveMs} ms late); p50 ${f(w.p50Ms)} ms; ${since}`;
  }
  return { ok: true, detail };
}

export interface OpsRoutesOptions {
  registry: Registry;
  /** The checks that make the service ready; each module that owns a concept provides its own. */
  readiness: readonly ReadinessCheck[];
  /** Checks that may fail without making the service unready (shown for operators). */
  informational?: () => ReadinessCheck[];
  /** Serial devices and their state (for `hes-gate devices --url`); none without a station. */
  devices?: () => unknown[];
  /** Tokens that may read `/v1/devices` (the admin and API tokens); none configured = open. */
  deviceTokens?: ReadonlyArray<Secret | string | null | undefined>;
}

/** Several providers of informational checks as one (devices, the city tier, …), in order. */
export function informationalChecks(...providers: ReadonlyArray<() => ReadinessCheck[]>): () => ReadinessCheck[] {
  return () => providers.flatMap((p) => p());
}

/** `/healthz` (alive), `/readyz` (able to decide), `/metrics` (Prometheus text), `/v1/devices`. */
export async function opsRoutes(app: FastifyInstance, opts: OpsRoutesOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, { ok: boolean; detail: string }> = {};
    let ready = true;
    for (const c of opts.readiness) {
      const r = c.check();
      checks[c.name] = r;
      if (!r.ok) ready = false;
    }
    for (const c of opts.informational?.() ?? []) checks[c.name] = c.check();
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not-ready', checks };
  });

  app.get('/v1/devices', { onRequest: anyTokenGuard(opts.deviceTokens ?? [], 'device API') }, async () => ({ devices: opts.devices?.() ?? [] }));

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
}
