/**
 * The publisher's record of what it published, kept across restarts in the hub's data directory
 * (never in vehicles.publishDir: a static server serves that, and a revoked vehicle must not
 * learn new file names from a head it can fetch without a token):
 *
 *   <dataDir>/vehicle-head.json   {"format":1, "head": "<head.json text as served>", "chains": [{snapshot, deltas}, …]}
 *
 * `chains` are the snapshots kept, oldest first, each with the deltas published after it: what
 * pruning keeps. Written like the list files: temp file, fsync, rename, fsync of the directory.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileRef, ListHead } from '../list/types.js';

export interface Chain {
  snapshot: FileRef;
  deltas: FileRef[];
}

export interface HeadRecord {
  /** head.json's exact text, as served. */
  text: string;
  head: ListHead;
  chains: Chain[];
}

const HEAD_PREFIX = '{"head":';

/** The head inside head.json's text (its signature was made here: not checked again). */
export function headOf(text: string): ListHead {
  const cut = text.lastIndexOf(',"signature":');
  if (!text.startsWith(HEAD_PREFIX) || cut < 0) throw new SyntaxError('not a head file');
  return JSON.parse(text.slice(HEAD_PREFIX.length, cut)) as ListHead;
}

/** The record, or null when there is none yet. A record that does not parse is an error: said, never silently replaced. */
export async function readHeadRecord(file: string): Promise<HeadRecord | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const raw = JSON.parse(text) as { format?: unknown; head?: unknown; chains?: unknown };
  if (raw.format !== 1 || typeof raw.head !== 'string' || !Array.isArray(raw.chains)) throw new SyntaxError(`${file} is not a vehicle head record`);
  return { text: raw.head, head: headOf(raw.head), chains: raw.chains as Chain[] };
}

export async function writeHeadRecord(file: string, record: Pick<HeadRecord, 'text' | 'chains'>): Promise<void> {
  const temp = `${file}.tmp`;
  const fh = await open(temp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify({ format: 1, head: record.text, chains: record.chains }));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
