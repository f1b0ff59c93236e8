/**
 * The live page in a real headless Chromium: it loads under its CSP with no console error,
 * renders the snapshot, lists decisions as the feed sends them, and asks for the token.
 * Needs /usr/bin/chromium (apt-get install chromium): without it the suite skips loudly, except
 * under CI, where it fails.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Secret } from '../../src/config/sensitive-value.js';
import { LIVE_CSP } from '../../src/http/routes/live.js';
import { decisionEvent, sampleStatus, startLiveServer, T0, type LiveServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const haveChromium = existsSync(CHROMIUM);

if (!haveChromium && !process.env.CI) {
  console.warn(`\n⚠ test/live/page.browser.test.ts SKIPPED: ${CHROMIUM} not found (apt-get install chromium). Under CI this fails.\n`);
}

describe('live page in headless Chromium', () => {
  if (!haveChromium && process.env.CI) {
    it('has Chromium at /usr/bin/chromium', () => {
      expect.fail(`${CHROMIUM} is missing: CI must install chromium for the live page test`);
    });
    return;
  }

  let browser: Browser;
  const servers: LiveServer[] = [];
  beforeAll(async () => {
    if (!haveChromium) return;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.app.close();
  });

  /** A page that records console errors and uncaught exceptions (CSP violations are console errors). */
  async function openPage(width = 1280, height = 900): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width, height }, locale: 'en-GB', timezoneId: 'Europe/Istanbul' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (err) => errors.push(String(err)));
    return { page, errors };
  }

  it.skipIf(!haveChromium)('renders the snapshot and lists decisions as they arrive, with no console error', async () => {
    const server = await startLiveServer({
      status: () =>
        sampleStatus({
          environment: 'test',
          loop: { maxMs: 42.04, p99Ms: 3.21 },
          ministry: { state: 'degraded', circuit: 'closed', lastError: 'HG_MINISTRY_TIMEOUT', lastSuccessAt: T0 - 12_000, openUntil: 0, pausedUntil: 0 },
          devices: [
            { id: 'R1', role: 'reader', gates: ['G1'], path: '/dev/ttyUSB0', profile: 'acme-card', state: 'open', since: T0 - 3_600_000, lastError: null, reopens: 0, count: 412 },
            { id: 'R2', role: 'reader', gates: ['G2'], path: '/dev/ttyUSB1', profile: 'hes-qr', state: 'reconnecting', since: T0 - 40_000, lastError: 'ENOENT: no such device', reopens: 3, count: 97 },
            { id: 'G1/controller', role: 'controller', gates: ['G1'], path: '/dev/ttyS0', profile: 'gate-relay', state: 'open', since: T0 - 3_600_000, lastError: null, reopens: 0, count: 380 },
          ],
        }),
    });
    servers.push(server);
    // History over the last minutes, for the per-minute table.
    const reasons = [
      ['pass', 'RISKLESS', 'cache'],
      ['pass', 'RISKLESS', 'ministry'],
      ['deny', 'RISKY', 'cache'],
      ['deny', 'CARD_UNBOUND', 'none'],
      ['pass', 'MINISTRY_UNAVAILABLE', 'stale'],
    ] as const;
    for (let m = 4; m >= 1; m--) {
      for (let i = 0; i < 6 + m * 3; i++) {
        const [verdict, reason, source] = reasons[(i * 7 + m) % reasons.length]!;
        server.feed.decision(decisionEvent({ at: T0 - m * 60_000 + i * 1000, gate: `G${1 + (i % 3)}`, verdict, reason, source, kind: i % 2 ? 'card' : 'qr' }));
      }
    }
    server.feed.ministryCall({ outcome: 'ok', durationMs: 38 });
    server.feed.ministryCall({ outcome: 'HG_MINISTRY_TIMEOUT', durationMs: 2000 });

    const { page, errors } = await openPage();
    const response = await page.goto(`${server.url}/live`);
    expect(response!.headers()['content-security-policy']).toBe(LIVE_CSP);

    await page.locator('#conn', { hasText: 'Live' }).waitFor();
    await expect.poll(() => page.locator('#env').textContent()).toContain('Test');
    expect(await page.locator('#m-state').textContent()).toBe('degraded');
    expect(await page.locator('#m-error').textContent()).toBe('HG_MINISTRY_TIMEOUT');
    expect(await page.locator('#c-ratio').textContent()).toContain('95.0 %');
    expect(await page.locator('#d-loop').textContent()).toBe('3.2 ms / 42.0 ms');
    expect(await page.locator('#devices tr').count()).toBe(3);
    expect(await page.locator('#devices tr', { hasText: 'R2' }).textContent()).toContain('reconnecting');
    expect(await page.locator('#decisions tr').count()).toBe(54);

    // Live decisions: fed after the page connected, shown newest first.
    server.feed.decision(decisionEvent({ at: T0, gate: 'G9', reader: 'R9', kind: 'card', verdict: 'deny', reason: 'RISKY', source: 'ministry', elapsedMs: 12.345 }));
    server.feed.decision(decisionEvent({ at: T0, gate: 'G10', kind: 'hes', verdict: 'pass', reason: 'RISKLESS', source: 'cache', elapsedMs: 0.4 }));
    server.tick();
    await page.locator('#decisions tr', { hasText: 'G10' }).waitFor();
    const first = page.locator('#decisions tr').first();
    expect(await first.getAttribute('class')).toContain('pass');
    expect(await first.locator('td').allTextContents()).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d$/), 'G10', 'hes', 'geçiş · pass', 'RISKLESS', 'cache', '0.4']);
    const second = page.locator('#decisions tr').nth(1);
    expect(await second.getAttribute('class')).toContain('deny');
    expect(await second.locator('td').allTextContents()).toEqual([expect.any(String), 'G9 / R9', 'card', 'ret · deny', 'RISKY', 'ministry', '12.3']);
    expect(await page.locator('#decisions').getAttribute('aria-live')).toBe('polite');

    // A gate id is whatever a validator sent: it must be shown as text, never run as markup.
    server.feed.decision(decisionEvent({ at: T0, gate: '<img src=x onerror=alert(1)>' }));
    server.tick();
    await page.locator('#decisions tr', { hasText: '<img src=x' }).waitFor();
    expect(await page.locator('#decisions img').count()).toBe(0);

    await page.screenshot({ path: '/tmp/hes-gate-live.png', fullPage: true });
    expect(errors).toEqual([]);

    const tablet = await openPage(800, 1100);
    await tablet.page.goto(`${server.url}/live`);
    await tablet.page.locator('#decisions tr', { hasText: 'G10' }).waitFor();
    await tablet.page.screenshot({ path: '/tmp/hes-gate-live-tablet.png', fullPage: true });
    expect(tablet.errors).toEqual([]);
  });

  it.skipIf(!haveChromium)('asks for the operator token, and connects with it in an Authorization header', async () => {
    const server = await startLiveServer({ token: new Secret('operator-secret-token') });
    servers.push(server);
    server.feed.decision(decisionEvent({ gate: 'G5' }));
    const { page, errors } = await openPage();
    await page.goto(`${server.url}/live`);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    expect(await page.locator('#conn').textContent()).toContain('Token required');

    await page.locator('#token').fill('wrong');
    await page.locator('#token-form button').click();
    await page.locator('#token-error', { hasText: 'refused' }).waitFor();

    await page.locator('#token').fill('operator-secret-token');
    await page.locator('#token-form button').click();
    await page.locator('#decisions tr', { hasText: 'G5' }).waitFor();
    expect(await page.locator('#token-form').isHidden()).toBe(true);
    // The only errors are the browser's own notes of the two refused requests.
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e).toMatch(/401/);
  });
});
