/**
 * The live page is files in src/http/live/ (the HTML shell, the stylesheet, the script's
 * modules), read once at start. They must be found both
 * from the sources (tests) and from the build in dist/ (`npm start`, the Docker image).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LIVE_PAGE_DIR, loadLivePage } from '../../src/http/live-page.js';
import { startLiveServer, type LiveServer } from './helpers.js';

const SOURCE_DIR = resolve('src/http/live');
const BUILT = resolve('dist/src/http/live-page.js');

let server: LiveServer | undefined;
afterEach(async () => {
  await server?.app.close();
  server = undefined;
});

describe('the live page files', () => {
  it('are served as they are on disk', async () => {
    expect(LIVE_PAGE_DIR).toBe(SOURCE_DIR);
    server = await startLiveServer();
    const scripts = readdirSync(SOURCE_DIR).filter((f) => f.endsWith('.js'));
    expect(scripts).toContain('app.js');
    for (const [path, file] of [['/live', 'index.html'], ['/live/app.css', 'app.css'], ...scripts.map((f) => [`/live/${f}`, f])] as const) {
      expect(await (await fetch(`${server.url}${path}`)).text(), path).toBe(readFileSync(join(SOURCE_DIR, file), 'utf8'));
    }
    // Only the page's own modules: nothing else of the directory, nothing by a prototype's name.
    for (const path of ['/live/tsconfig.json', '/live/constructor', '/live/__proto__', '/live/index.html']) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
    }
  });

  it('name the directory the package must ship when they are missing', async () => {
    const failed = loadLivePage('/nonexistent/hes-gate/live');
    await expect(failed).rejects.toThrow(/\/nonexistent\/hes-gate\/live.*must ship src\/http\/live/);
    // A coded start-up failure (one line, exit 2), not an unexpected error with a stack trace.
    await expect(failed).rejects.toMatchObject({ code: 'HG_INSTALL' });
  });

  it('are found by the build in dist/, as `npm start` and the Docker image run it', async () => {
    // `npm test` builds first; a missing or stale build fails here rather than passing by luck.
    expect(existsSync(BUILT), `${BUILT} is missing: run npm run build`).toBe(true);
    const built = (await import(BUILT)) as typeof import('../../src/http/live-page.js');
    expect(typeof built.loadLivePage, `${BUILT} is stale: run npm run build`).toBe('function');
    expect(built.LIVE_PAGE_DIR).toBe(SOURCE_DIR);
    const page = await built.loadLivePage();
    expect(page.html).toBe(readFileSync(join(SOURCE_DIR, 'index.html'), 'utf8'));
  });
});
