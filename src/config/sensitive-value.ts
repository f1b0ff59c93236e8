import { inspect } from 'node:util';

/**
 * A credential or token held in memory. It cannot reach a log, a JSON body or an error by
 * accident: printing, inspecting or serialising it shows `[redacted]`; only `reveal()` gives
 * the value, at the one place that sends it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}
