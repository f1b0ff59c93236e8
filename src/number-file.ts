/**
 * A count kept in a file of the data directory (a fencing token's floor, an upload cursor): read
 * once and remembered, written to a temporary file, flushed and renamed, so a crash or a power
 * cut leaves the old value or the new one, never a torn one. A missing file reads as 0.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

export class NumberFile {
  readonly #file: string;
  #known: number | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  /** The value on disk (0 when the file does not exist or holds no positive integer). */
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

  /** Write `n`; resolves once it is on disk. */
  async write(n: number): Promise<void> {
    const tmp = `${this.#file}.tmp`;
    await writeFile(tmp, `${n}\n`, { mode: 0o600, flush: true });
    await rename(tmp, this.#file);
    this.#known = n;
  }
}
