import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from '../../types.js';

export type { ReadinessCheck };

export interface OpsRoutesOptions {
  registry: Registry;
  /** The checks that make the service ready; each module that owns a concept provides its own. */
  readiness: readonly ReadinessCheck[];
  /** Checks that may fail without making the service unready (shown for operators). */
  informational?: () => ReadinessCheck[];
  /** Serial devices and their state (for `hes-gate devices --url`); none without a station. */
  devices?: () => unknown[];
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

  app.get('/v1/devices', async () => ({ devices: opts.devices?.() ?? [] }));

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
}
