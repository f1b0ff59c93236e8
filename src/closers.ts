/**
 * What a running service has opened, closed in the reverse order of opening (the HTTP app before
 * the stores it reads, the stores before the ministry target). One that fails is reported and
 * the rest still close.
 */
export class Closers {
  readonly #list: Array<() => Promise<void> | void> = [];

  add(close: () => Promise<void> | void): void {
    this.#list.push(close);
  }

  async closeAll(onError: (err: unknown) => void): Promise<void> {
    for (const close of this.#list.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        onError(err);
      }
    }
  }
}
