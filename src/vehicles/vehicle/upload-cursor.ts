/**
 * Where the uploader stopped: the journal position of the last record the hub acknowledged (2xx),
 * in a file of the data directory, written to a temporary file, flushed and renamed, so a restart
 * (or a power cut) resends at most the batch that was in flight, never skips one.
 */
import { NumberFile } from '../../number-file.js';

export class UploadCursor {
  readonly #file: NumberFile;

  constructor(file: string) {
    this.#file = new NumberFile(file);
  }

  /** The position acknowledged last; 0 when nothing was ever uploaded. */
  read(): Promise<number> {
    return this.#file.read();
  }

  /** Record a position; resolves once it is on disk. Lower than before only when the journal started again. */
  set(position: number): Promise<void> {
    return this.#file.write(position);
  }
}
