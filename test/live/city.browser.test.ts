/**
 * The live page's city card in a real headless Chromium: hidden on a standalone station; on a
 * station it shows the state (degraded in red, with its reason), lag and snapshots; on a hub also
 * the refresher lease and the rotation. The data come through liveStatusFrom, as in production.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HubStatusReport, ReplicaStatusReport } from '../../src/city/types.js';
import { liveStatusFrom, type LiveStatusSources } from '../../src/ops/live-status.js';
import { hubReport, replicaReport } from '../city/ops/reports.js';
import { startLiveServer, T0, type LiveServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const haveChromium = existsSync(CHROMIUM);

/** Narrow readouts of a quiet station, so the status comes from the real mapping. */
function sources(city: LiveStatusSources['city']): LiveStatusSources {
  return {
    environment: 'simulator',
    clock: () => T0,
    ministryHealth: { state: 'up', lastError: null, lastSuccessAt: T0 - 1000 } as unknown as LiveStatusSources['ministryHealth'],
    guard: { snapshot: () => ({ state: 'closed', lastError: null, openUntil: 0, pausedUntil: 0 }) },
    status: { size: 10, inflightCount: 0, counters: { hits: 1, misses: 0, stale: 0 } },
    ...(city === undefined ? {} : { city }),
  };
}

// Chromium on a busy two-core machine takes seconds per page: a generous bound per test.
describe.skipIf(!haveChromium && !process.env.CI)('live page city card in headless Chromium', { timeout: 60_000 }, () => {
  let browser: Browser;
  const servers: LiveServer[] = [];
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.app.close();
  });

  async function open(city: LiveStatusSources['city']): Promise<{ page: Page; errors: string[]; server: LiveServer }> {
    // One snapshot per tick: server.tick() sends the next one.
    const server = await startLiveServer({ status: liveStatusFrom(sources(city)), feed: { flushEveryMs: 250, snapshotEveryMs: 250 } });
    servers.push(server);
    const page = await (await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Istanbul' })).newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${server.url}/live`);
    await page.locator('#conn', { hasText: 'Live' }).waitFor();
    await expect.poll(() => page.locator('#updated').textContent()).not.toBe('—');
    return { page, errors, server };
  }

  it('is hidden on a standalone station', async () => {
    const { page, errors } = await open(undefined);
    expect(await page.locator('#city').isHidden()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows a degraded station: state and reason, lag, last change, snapshots; no lease', async () => {
    let replica: ReplicaStatusReport | null = replicaReport({ state: 'degraded', reason: 'redis unreachable', lagSeconds: 12.4, lagEntries: 1500, snapshots: 2, lastAppliedId: `${T0 - 45_000}-0` });
    const { page, errors, server } = await open({ role: 'station', replica: () => replica, hub: () => hubReport() });
    await page.locator('#city').waitFor({ state: 'visible' });
    expect(await page.locator('#city-role').textContent()).toBe('istasyon · station');
    expect(await page.locator('#city-state').textContent()).toBe('degraded (redis unreachable)');
    expect(await page.locator('#city-state').getAttribute('class')).toContain('bad');
    expect(await page.locator('#city-lag').textContent()).toBe('12 s · 1,500 entries');
    expect(await page.locator('#city-applied').textContent()).toMatch(/^\d\d:\d\d:\d\d \(45 s ago\)$/);
    expect(await page.locator('#city-snapshots').textContent()).toBe('2');
    // A station has no lease: its rows stay hidden even though a hub report exists.
    expect(await page.locator('#city-lease').isHidden()).toBe(true);

    // The next snapshot: back to live.
    replica = replicaReport({ state: 'live', lagSeconds: 0, lagEntries: 0 });
    server.tick();
    await page.locator('#city-state', { hasText: /^live$/ }).waitFor();
    expect(await page.locator('#city-state').getAttribute('class')).toContain('ok');
    expect(await page.locator('#city-lag').textContent()).toBe('0.0 s · 0 entries');
    expect(errors).toEqual([]);
  });

  it('shows a hub\'s lease and rotation, and a standby with nobody holding the lease', async () => {
    let hub: HubStatusReport = hubReport({ holding: true, token: 12, rotationProgress: 0.42, lastRotationDurationMs: 480_000, fenced: 0 });
    const { page, errors, server } = await open({ role: 'hub', replica: () => replicaReport(), hub: () => hub });
    await page.locator('#city-lease').waitFor({ state: 'visible' });
    expect(await page.locator('#city-role').textContent()).toBe('hub');
    expect(await page.locator('#city-lease').textContent()).toBe('held here (token 12)');
    expect(await page.locator('#city-rotation').textContent()).toBe('42 % done · last took 480 s');

    hub = hubReport({ holding: false, leaseHolder: null, rotationProgress: null, lastRotationDurationMs: null, fenced: 3 });
    server.tick();
    await page.locator('#city-lease', { hasText: 'nobody' }).waitFor();
    expect(await page.locator('#city-lease').textContent()).toBe('nobody holds it · 3 writes fenced');
    expect(await page.locator('#city-lease').getAttribute('class')).toContain('bad');
    expect(await page.locator('#city-rotation').textContent()).toBe('—');
    await page.screenshot({ path: '/tmp/hes-gate-live-city.png', fullPage: true });
    expect(errors).toEqual([]);
  });
});
