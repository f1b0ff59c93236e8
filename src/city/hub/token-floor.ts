/**
 * The fencing token's floor, kept by each hub in a file of its own data directory: the highest
 * token it has held or seen another hub hold. Redis's counter (hg:lease:token) can go back — a
 * Redis restarted without its AOF, emptied, or a replica promoted before it had the last INCR —
 * and a token handed out twice would let two hubs write as the holder. The lease takes
 * max(Redis's counter, this floor) + 1 (lease.ts), and a holder acts only once its token is on
 * disk here (written to a temporary file, flushed, renamed), so a token never repeats across
 * restarts, failovers and data loss as long as one hub that held or saw it keeps its data.
 */
import { NumberFile } from '../../number-file.js';

export interface TokenFloor {
  /** The highest token recorded (0 when none). */
  read(): Promise<number>;
  /** Record `token` if it is higher; resolves once it is on disk. */
  raise(token: number): Promise<void>;
}

export class FileTokenFloor implements TokenFloor {
  readonly #file: NumberFile;
  #chain: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = new NumberFile(file);
  }

  read(): Promise<number> {
    return this.#file.read();
  }

  raise(token: number): Promise<void> {
    const next = this.#chain.then(async () => {
      if (token <= (await this.#file.read())) return;
      await this.#file.write(token);
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
