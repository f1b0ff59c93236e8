/**
 * One list file to disk, resuming after a cut. A bus loses its link mid-file in every tunnel: the
 * bytes already on disk stay, and the next try asks only for the rest (HTTP Range). The files are
 * content-addressed (their name is their sha256) and immutable, so what was received before is
 * still the start of the same file; the list worker checks the whole file's sha256 before anything
 * is taken, so a resume that went wrong is caught there (refused as `tampered`, started again).
 *
 *   partial/<name> holds n bytes ─> GET Range: bytes=n- ─┬─ 206 from n ─> append
 *                                                        ├─ 200 (Range ignored) ─> from 0
 *                                                        └─ 416 / 206 elsewhere ─> from 0
 */
import { open, rm, stat } from 'node:fs/promises';
import { request, type Dispatcher } from 'undici';
import { discard } from './hub-http.js';
import { LinkState, type LinkStateName } from './link-state.js';

export type DownloadResult =
  | { ok: true; resumedFrom: number }
  | { ok: false; link: LinkStateName; detail: string }
  /** The server sent more bytes than the head named: the partial file is gone. */
  | { ok: false; tampered: string };

export interface DownloadOptions {
  url: string;
  headers: Record<string, string>;
  path: string;
  /** The size the head gives. */
  bytes: number;
  dispatcher: Dispatcher;
  /** Told of every chunk received (bytes fetched). */
  onBytes?: (n: number) => void;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** The first byte of a `Content-Range: bytes a-b/n` header, or -1. */
function rangeStart(header: string | string[] | undefined): number {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(typeof header === 'string' ? header : '');
  return m === null ? -1 : Number(m[1]);
}

export async function downloadFile(o: DownloadOptions): Promise<DownloadResult> {
  let have = await sizeOf(o.path);
  if (have > o.bytes) {
    await rm(o.path, { force: true });
    have = 0;
  }
  if (have === o.bytes) return { ok: true, resumedFrom: have };
  // Twice at most: a server that answers a Range with another range is asked for the whole file.
  for (let attempt = 0; attempt < 2; attempt++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(o.url, { dispatcher: o.dispatcher, headers: { ...o.headers, ...(have > 0 ? { range: `bytes=${have}-` } : {}) } });
    } catch (err) {
      return { ok: false, link: 'unreachable', detail: LinkState.codeOf(err) };
    }
    let from: number;
    if (res.statusCode === 206 && have > 0 && rangeStart(res.headers['content-range']) === have) from = have;
    else if (res.statusCode === 200) from = 0;
    else if (res.statusCode === 206 || res.statusCode === 416) {
      await discard(res.body);
      await rm(o.path, { force: true });
      have = 0;
      continue;
    } else {
      await discard(res.body);
      return { ok: false, link: LinkState.ofStatus(res.statusCode), detail: String(res.statusCode) };
    }
    let left = o.bytes - from;
    // Each chunk is on disk before the next is read: when the link drops, all that arrived is kept.
    const file = await open(o.path, from === 0 ? 'w' : 'a', 0o600);
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        left -= chunk.length;
        o.onBytes?.(chunk.length);
        if (left < 0) {
          res.body.destroy();
          await file.close();
          await rm(o.path, { force: true });
          return { ok: false, tampered: `the server sent more than the ${o.bytes} bytes the head names` };
        }
        await file.write(chunk);
      }
    } catch (err) {
      // Cut mid-file: what arrived is on disk; the next try asks for the rest.
      return { ok: false, link: 'unreachable', detail: LinkState.codeOf(err) };
    } finally {
      await file.close().catch(() => undefined);
    }
    if (left > 0) return { ok: false, link: 'unreachable', detail: 'short body' };
    return { ok: true, resumedFrom: from };
  }
  return { ok: false, link: 'refused', detail: 'content-range' };
}
