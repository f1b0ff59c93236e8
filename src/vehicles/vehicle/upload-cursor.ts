/**
 * Where the uploader stopped: the journal position of the last record the hub acknowledged (2xx),
 * in a file of the data directory, written to a temporary file, flushed and renamed, so a restart
 * (or a power cut) resends at most the batch that was in flight, never skips one.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

export class UploadCursor {
  readonly #file: string;
  #known: number | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  /** The position acknowledged last; 0 when nothing was ever uploaded. */
  async read(): Promise<number> {
    if (this.#known !== undefined) return this.#known;
    try {
      const n = Number((await readFile(this.#file, 'utf8')).trim());
      this.#known = Number.isSafeInteger(n) && n > 0 ? n : 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.#known = 0;
    }
    return this.#known;
  }

  /** Record a position; resolves once it is on disk. Lower than before only when the journal started again. */
  async set(position: number): Promise<void> {
    const tmp = `${this.#file}.tmp`;
    await writeFile(tmp, `${position}\n`, { mode: 0o600, flush: true });
    await rename(tmp, this.#file);
    this.#known = position;
  }
}
