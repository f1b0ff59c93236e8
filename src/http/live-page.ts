/**
 * The operators' live page: one HTML shell, one stylesheet, and its script as ES modules
 * (app.js imports the others), kept as files in src/http/live/ so that tools check them: tsc
 * type-checks the scripts against the feed's wire types, eslint lints them. No build step, no framework, nothing
 * fetched from elsewhere (a station office has no internet), and no inline script or style, so
 * the page runs under `default-src 'self'` without 'unsafe-inline'.
 *
 * The files are found from the package root, the same way whether the service runs from the
 * TypeScript sources (tests) or from dist/ (`npm start`, the Docker image): a package or image
 * must ship src/http/live/ beside dist/. They are read once, at start, never on a request.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../config/load.js';
import { HesGateError } from '../errors.js';

/** Where the page's files are. */
export const LIVE_PAGE_DIR = resolve(PACKAGE_ROOT, 'src', 'http', 'live');

export interface LivePage {
  html: string;
  css: string;
  /** The script modules by file name (`app.js` and the modules it imports), served as /live/<name>. */
  scripts: ReadonlyMap<string, string>;
}

/** Reads the page's files; fails with the directory named when one is missing. */
export async function loadLivePage(dir: string = LIVE_PAGE_DIR): Promise<LivePage> {
  try {
    const names = (await readdir(dir)).filter((f) => f.endsWith('.js')).sort();
    if (!names.includes('app.js')) throw new Error('app.js is missing');
    const [html, css, ...scripts] = await Promise.all(['index.html', 'app.css', ...names].map((f) => readFile(join(dir, f), 'utf8')));
    return { html: html!, css: css!, scripts: new Map(names.map((name, i) => [name, scripts[i]!])) };
  } catch (err) {
    // A start-up failure like any other: one coded line and exit 2, not a stack trace.
    throw new HesGateError('HG_INSTALL', `the live page's files (index.html, app.css, app.js and its modules) could not be read from ${dir}: the package must ship src/http/live/`, { cause: err });
  }
}
