/**
 * The ministry side of a running station, assembled in one place: the target (the configured
 * address, or the embedded simulator), the check that its host resolves, the client with its
 * call observer, and the guard (in-flight cap, retries, circuit) every status lookup goes through.
 *
 *   target ─> address check (a configured address only) ─> client ─> guard ─> status calls
 *
 * Log lines and the ministry's health come from the caller's observer (ops/part-logs.ts), and the
 * embedded simulator from the caller too: this stage imports neither ops/ nor the simulator.
 */
import type { Closers } from '../closers.js';
import type { Config } from '../config/schema.js';
import type { Clock } from '../types.js';
import { MinistryAddress } from './address-check.js';
import { probeTarget, type ProbeOutcome } from './credentials-probe.js';
import { GuardedMinistry, guardOptions } from './guard.js';
import { statusCalls, type StatusCalls } from './status-calls.js';
import { openMinistryTarget, type EmbeddedMinistry, type MinistryEnvironment, type MinistryTarget, type StartEmbeddedMinistry } from './target.js';
import type { MinistryCallEvent } from './types.js';

/** What the ministry side reports, as it is assembled and while it runs. */
export interface MinistrySideObserver {
  /** Which ministry answers, once the target is open. */
  target(target: MinistryTarget): void;
  /** The ministry host's resolution (a configured address only). */
  address: { onUnresolved: (host: string, code: string) => void; onResolved: (host: string) => void };
  /** The client's `onCall`, for the environment actually spoken to. */
  calls(environment: MinistryEnvironment): (e: MinistryCallEvent) => void;
  /** The guard's circuit changes and its 429 pauses. */
  circuit(guard: GuardedMinistry): void;
}

export interface MinistrySideOptions<E extends EmbeddedMinistry> {
  clock: Clock;
  /** Each part opened here adds its close, in the order it was opened. */
  closers: Closers;
  /** Whether the gates need the plus fields (policy/gate-lookup.ts `needsPlusFields`). */
  plus: boolean;
  /** Starts the embedded simulator when the configuration names no ministry. */
  embedded: StartEmbeddedMinistry<E>;
  observer: MinistrySideObserver;
}

export interface MinistrySide<E extends EmbeddedMinistry = EmbeddedMinistry> {
  /** The environment actually spoken to: `simulator` whenever the embedded simulator answers. */
  environment: MinistryEnvironment;
  simulator: E | null;
  /** The ministry host's resolution; null with the embedded simulator. */
  address: MinistryAddress | null;
  /** The guarded client: every status lookup goes through it. */
  ministry: GuardedMinistry;
  /** The status lookups' calls, through the guard. */
  calls: StatusCalls;
  /** Sends the start-up credentials probe past the guard (never rejects; `skipped` on the embedded simulator). */
  probe(): Promise<ProbeOutcome | 'skipped'>;
}

export async function openMinistrySide<E extends EmbeddedMinistry>(config: Config, o: MinistrySideOptions<E>): Promise<MinistrySide<E>> {
  const { clock, closers, observer } = o;
  const target = await openMinistryTarget(config, { embedded: o.embedded });
  closers.add(() => target.close());
  const { environment, simulator } = target;
  observer.target(target);
  // An unresolved ministry host does not stop the station: shown on /readyz until it resolves.
  const address = simulator === null ? new MinistryAddress({ baseUrl: target.baseUrl, ...observer.address }) : null;
  if (address !== null) {
    void address.start();
    closers.add(() => address.close());
  }

  const client = target.createClient({ clock, onCall: observer.calls(environment) });
  const ministry = new GuardedMinistry(client, guardOptions(config, clock));
  observer.circuit(ministry);
  closers.add(() => ministry.close());
  return { environment, simulator, address, ministry, calls: statusCalls(ministry, o.plus), probe: () => probeTarget(target, statusCalls(client, o.plus).single) };
}
