/**
 * The fencing token's floor, kept by each hub in a file of its own data directory: the highest
 * token it has held or seen another hub hold. Redis's counter (hg:lease:token) can go back — a
 * Redis restarted without its AOF, emptied, or a replica promoted before it had the last INCR —
 * and a token handed out twice would let two hubs write as the holder. The lease takes
 * max(Redis's counter, this floor) + 1 (lease.ts), and a holder acts only once its token is on
 * disk here (written to a temporary file, flushed, renamed), so a token never repeats across
 * restarts, failovers and data loss as long as one hub that held or saw it keeps its data.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

export interface TokenFloor {
  /** The highest token recorded (0 when none). */
  read(): Promise<number>;
  /** Record `token` if it is higher; resolves once it is on disk. */
  raise(token: number): Promise<void>;
}

export class FileTokenFloor implements TokenFloor {
  readonly #file: string;
  #known: number | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

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

  raise(token: number): Promise<void> {
    const next = this.#chain.then(async () => {
      if (token <= (await this.read())) return;
      const tmp = `${this.#file}.tmp`;
      await writeFile(tmp, `${token}\n`, { mode: 0o600, flush: true });
      await rename(tmp, this.#file);
      this.#known = token;
    });
    this.#chain = next.catch(() => undefined);
    return next;
  }
}

/** A floor kept in memory only (tests; a hub without a data directory). */
export class MemoryTokenFloor implements TokenFloor {
  #n = 0;
  async read(): Promise<number> {
    return this.#n;
  }
  async raise(token: number): Promise<void> {
    this.#n = Math.max(this.#n, token);
  }
}
