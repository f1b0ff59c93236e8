/**
 * The city tier on /readyz: shown, never a reason to be unready — a station decides from its
 * local replica, so `degraded` (Redis away) leaves it ready (issue 12, "Visible to operations").
 */
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { cityReadiness } from '../../../src/city/readiness.js';
import type { HubStatusReport, ReplicaStatusReport } from '../../../src/city/types.js';
import { informationalChecks, opsRoutes } from '../../../src/http/routes/ops.js';
import { hubReport, replicaReport } from './reports.js';

async function readyz(replica: ReplicaStatusReport | null, hub: HubStatusReport | null, ready = true): Promise<{ code: number; body: { status: string; checks: Record<string, { ok: boolean; detail: string }> } }> {
  const app = Fastify();
  const device = () => [{ name: 'device N1/card', check: () => ({ ok: true, detail: 'reader: open' }) }];
  await app.register(opsRoutes, {
    registry: new Registry(),
    readiness: [{ name: 'store', check: () => ({ ok: ready, detail: 'open' }) }],
    informational: informationalChecks(device, cityReadiness(() => replica, () => hub)),
  });
  const res = await app.inject({ method: 'GET', url: '/readyz' });
  await app.close();
  return { code: res.statusCode, body: res.json() };
}

describe('/readyz city check', () => {
  it('a live station is ready and says how far behind it is', async () => {
    const r = await readyz(replicaReport({ lagSeconds: 0.25, lagEntries: 3 }), null);
    expect(r.code).toBe(200);
    expect(r.body.checks.city).toEqual({ ok: true, detail: 'live; lag 0.3 s, 3 entries; last applied 1764531200123-4; 3 snapshots (1 after trim); 2 malformed entries dropped' });
    expect(r.body.checks['device N1/card']?.ok).toBe(true);
  });

  it('a degraded station stays ready: degraded is shown, not a failure', async () => {
    const r = await readyz(replicaReport({ state: 'degraded', reason: 'redis unreachable', malformed: 0 }), null);
    expect(r.code).toBe(200);
    expect(r.body.status).toBe('ready');
    expect(r.body.checks.city?.ok).toBe(false);
    expect(r.body.checks.city?.detail).toMatch(/^degraded \(redis unreachable\); lag/);
  });

  it('does not make an unready station ready', async () => {
    const r = await readyz(replicaReport(), null, false);
    expect(r.code).toBe(503);
    expect(r.body.checks.city?.ok).toBe(true);
  });

  it('before the replica starts', async () => {
    const r = await readyz(null, null);
    expect(r.code).toBe(200);
    expect(r.body.checks.city).toEqual({ ok: false, detail: 'replica not started' });
  });

  it('a hub shows the lease: held, held elsewhere, or nobody', async () => {
    const held = await readyz(replicaReport({ malformed: 0 }), hubReport());
    expect(held.body.checks.city?.detail).toContain('holds the refresher lease (token 12), rotation 50%; 2 writes fenced');
    const standby = await readyz(replicaReport({ malformed: 0 }), hubReport({ holding: false, leaseHolder: 'hub-b', fenced: 0 }));
    expect(standby.body.checks.city?.detail).toMatch(/; standing by: lease held by hub-b$/);
    const none = await readyz(replicaReport({ malformed: 0 }), hubReport({ holding: false, leaseHolder: null, fenced: 0, publishDropped: 4 }));
    expect(none.body.checks.city?.detail).toMatch(/; standing by: no lease holder; 4 status batches dropped$/);
  });
});
