import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Secret } from '../../config/sensitive-value.js';
import { anyTokenGuard } from '../auth.js';
import type { ReadinessCheck } from '../../types.js';

export type { ReadinessCheck };

/**
 * The event loop's delay as a readiness entry. It never makes the service unready — a lagging
 * loop still decides, and sheds what it cannot answer on time — but it is always shown, so a
 * stall is visible here even when every `elapsedMs` looked fine.
 */
export function eventLoopCheck(w: { p50Ms: number; p99Ms: number; maxMs: number; worstMs: number; windowMs: number }, shedAboveMs: number): { ok: boolean; detail: string } {
  const f = (ms: number): string => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
  const state = w.p99Ms > shedAboveMs ? 'lagging (shedding decisions)' : w.maxMs > shedAboveMs ? 'stalled at times' : 'on time';
  return {
    ok: true,
    detail: `${state}: delay p50 ${f(w.p50Ms)} ms, p99 ${f(w.p99Ms)} ms, max ${f(w.maxMs)} ms over the last ${w.windowMs / 1000} s; worst since start ${f(w.worstMs)} ms; decisions shed above ${shedAboveMs} ms`,
  };
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
