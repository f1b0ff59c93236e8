/**
 * The live page's 24-hour history in a real headless Chromium, against a whole running
 * hes-gate (embedded simulator, real journal file and worker): decisions made over HTTP show in
 * the per-gate summary and the hourly bars, a gate the configuration does not list is flagged,
 * a configured gate without decisions is named, and no HES code or card id reaches the page.
 * Needs /usr/bin/chromium, like page.browser.test.ts.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from '../http/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const haveChromium = existsSync(CHROMIUM);
const ADMIN = 'operator-history-token';
const CARDS = ['04A1B2C3D4', '04A1B2C3D5'];

describe('live page history in headless Chromium, against a running gate', () => {
  if (!haveChromium && process.env.CI) {
    it('has Chromium at /usr/bin/chromium', () => {
      expect.fail(`${CHROMIUM} is missing: CI must install chromium for the live page test`);
    });
    return;
  }

  let browser: Browser;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    if (!haveChromium) return;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    for (const c of closers) await c();
  });

  /** A page with the operator token already in its session (as after the token form), recording console errors. */
  async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'en-GB', timezoneId: 'Europe/Istanbul' });
    await context.addInitScript((t) => sessionStorage.setItem('hes-gate-live-token', t), ADMIN);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${url}/live`);
    return { page, errors };
  }

  it.skipIf(!haveChromium)('shows the per-gate summary and hourly bars from the journal, and flags the unconfigured gate', async () => {
    const t = await startTestGate({ refresher: { enabled: false }, stationId: 'kadikoy-1', gates: { list: [{ id: 'N1' }, { id: 'N2' }] } }, { HES_GATE_ADMIN_TOKEN: ADMIN });
    closers.push(() => t.gate.close());
    const bind = await fetch(`${t.url}/v1/cards/${CARDS[0]}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode: SAMPLE.RISKLESS }) });
    expect(bind.status).toBe(201);
    const made: Array<[string, Record<string, string>, string]> = [
      ['N1', { hesCode: SAMPLE.RISKLESS }, 'pass'],
      ['N1', { hesCode: SAMPLE.RISKLESS }, 'pass'],
      ['N1', { card: CARDS[0]! }, 'pass'],
      ['N1', { hesCode: SAMPLE.RISKY }, 'deny'],
      ['N1', { card: CARDS[1]! }, 'deny'],
      ['N1', { qr: `]Q112345678901|${SAMPLE.RISKY}` }, 'deny'],
      ['X9', { hesCode: SAMPLE.RISKLESS }, 'pass'],
    ];
    for (const [gate, credential, verdict] of made) expect((await t.post({ gate, ...credential })).body.verdict, `${gate} ${JSON.stringify(credential)}`).toBe(verdict);
    await t.gate.journal!.drain();

    const { page, errors } = await openPage(t.url);
    await page.locator('#history tr', { hasText: 'X9' }).waitFor();
    const rows = page.locator('#history tr');
    expect(await rows.count()).toBe(3);

    const n1 = page.locator('#history tr', { hasText: 'N1' });
    const cells = await n1.locator('td').allTextContents();
    expect(cells.slice(0, 5)).toEqual(['N1', '6', '3', '3', expect.stringMatching(/^RISKY 2, CARD_UNBOUND 1$/)]);
    for (const ms of cells.slice(5, 9)) expect(ms).toMatch(/^\d+\.\d$/);
    expect(await n1.locator('.hours .h').count()).toBe(24);
    // The current hour is the last bar: all six decisions are in it.
    expect(await n1.locator('.hours .h').last().getAttribute('title')).toMatch(/: 3 pass, 3 deny$/);
    expect(await n1.getAttribute('class') ?? '').not.toContain('unconfigured');
    expect(await n1.locator('.tag').count()).toBe(0);

    const x9 = page.locator('#history tr', { hasText: 'X9' });
    expect(await x9.getAttribute('class')).toContain('unconfigured');
    expect(await x9.locator('.tag').textContent()).toBe('yapılandırmada yok · not configured');
    expect(await page.locator('#unconfigured').textContent()).toContain('X9');
    expect(await page.locator('#unconfigured').isVisible()).toBe(true);
    // N2 is configured and has decided nothing: named, with an empty row.
    expect(await page.locator('#idle').textContent()).toContain('N2');
    expect((await page.locator('#history tr', { hasText: 'N2' }).locator('td').allTextContents()).slice(1, 4)).toEqual(['0', '0', '0']);
    expect(await page.locator('#journal-off').isHidden()).toBe(true);

    // No code, card id or QR payload anywhere in the page, its text or its attributes.
    const html = await page.content();
    for (const secret of [SAMPLE.RISKLESS, SAMPLE.RISKY, ...CARDS, CARDS[0]!.slice(0, 8)]) expect(html).not.toContain(secret);
    await page.screenshot({ path: '/tmp/hes-gate-live-history.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it.skipIf(!haveChromium)('says so when the journal is disabled', async () => {
    const t = await startTestGate({ refresher: { enabled: false }, journal: { enabled: false }, gates: { list: [{ id: 'N1' }] } }, { HES_GATE_ADMIN_TOKEN: ADMIN });
    closers.push(() => t.gate.close());
    expect((await t.post({ gate: 'N1', hesCode: SAMPLE.RISKLESS })).body.verdict).toBe('pass');
    const { page, errors } = await openPage(t.url);
    await page.locator('#journal-off').waitFor({ state: 'visible' });
    expect(await page.locator('#journal-off').textContent()).toContain('journal is disabled');
    expect(await page.locator('#history tr').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
