/**
 * Whether the ministry's host name resolves, for `/readyz` (informational). A name that does not
 * resolve at boot does not stop the station (DNS may be down while the station must decide by
 * its outage policy); it is said once in the log (`config.problem`) and shown here until it
 * resolves, looked up again every `retryMs`.
 *
 *   start ── lookup ──ok──> "resolves"  (done)
 *              └─fail──> "does not resolve (ENOTFOUND)" ── retryMs ──> lookup …
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { ReadinessCheck } from '../types.js';

export type HostLookup = (host: string) => Promise<unknown>;

export interface MinistryAddressOptions {
  baseUrl: string;
  /** @default dns.lookup */
  lookup?: HostLookup;
  /** @default 30000 */
  retryMs?: number;
  /** Called once when the host is first found not to resolve, with the reason. */
  onUnresolved?: (host: string, code: string) => void;
  onResolved?: (host: string) => void;
}

export class MinistryAddress {
  readonly host: string;
  #state: { kind: 'pending' } | { kind: 'resolved' } | { kind: 'unresolved'; code: string } = { kind: 'pending' };
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #o: MinistryAddressOptions;

  constructor(options: MinistryAddressOptions) {
    this.#o = options;
    this.host = new URL(options.baseUrl).hostname.replace(/^\[|\]$/g, '');
  }

  /** The first lookup; resolves when it is done (callers need not wait for it). */
  async start(): Promise<void> {
    const lookup = this.#o.lookup ?? ((h: string) => dnsLookup(h));
    try {
      await lookup(this.host);
      if (this.#state.kind === 'unresolved') this.#o.onResolved?.(this.host);
      this.#state = { kind: 'resolved' };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (this.#state.kind !== 'unresolved') this.#o.onUnresolved?.(this.host, code);
      this.#state = { kind: 'unresolved', code };
      if (!this.#closed) {
        this.#timer = setTimeout(() => void this.start(), this.#o.retryMs ?? 30_000);
        this.#timer.unref();
      }
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  readiness(): ReadinessCheck[] {
    return [
      {
        name: 'ministry address',
        check: () => {
          const s = this.#state;
          if (s.kind === 'unresolved') {
            return { ok: false, detail: `${this.host} does not resolve (${s.code}): check DNS or /etc/hosts; the outage policy decides until it resolves` };
          }
          return { ok: true, detail: s.kind === 'resolved' ? `${this.host} resolves` : `${this.host}: looking it up` };
        },
      },
    ];
  }
}
