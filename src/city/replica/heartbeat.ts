/**
 * A node's heartbeat: `SET hg:hb:<node id> <JSON> PX 3×heartbeatMs`, so the operators' view (and
 * the hubs) see every station that is alive, its state and lag. Counts and stream ids only:
 * never a code or card id.
 */
import type { Redis } from 'ioredis';
import { LEAVES } from '../reconcile/digest-tree.js';
import type { ReconcileReport, ReplicaStatusReport } from '../types.js';

export interface HeartbeatValue {
  role: 'station' | 'hub';
  version: string;
  state: ReplicaStatusReport['state'];
  lagSeconds: number;
  lagEntries: number;
  lastAppliedId: string | null;
  /** Entries this node refused (forged, replayed, revoked), by reason. */
  refused: ReplicaStatusReport['refused'];
  /** When it was written, epoch ms (the node's clock). */
  time: number;
  /** The reconciler's last comparison with the city's digests: did the roots agree, when, how many of the leaves differed. */
  digest?: { agrees: boolean; at: number; ranges: number; differing: number };
  /** The reconciler's last repair: when, and how many bindings it wrote or removed. */
  lastRepair?: { at: number; moved: number };
}

export function heartbeatValue(role: HeartbeatValue['role'], version: string, r: ReplicaStatusReport, time: number, rec?: ReconcileReport): HeartbeatValue {
  const value: HeartbeatValue = { role, version, state: r.state, lagSeconds: r.lagSeconds, lagEntries: r.lagEntries, lastAppliedId: r.lastAppliedId, refused: r.refused, time };
  const c = rec?.lastComparison;
  if (c != null) value.digest = { agrees: c.agrees, at: c.at, ranges: LEAVES, differing: c.differing };
  if (rec?.lastRepairAt != null) value.lastRepair = { at: rec.lastRepairAt, moved: rec.lastRepairMoved ?? 0 };
  return value;
}

export async function writeHeartbeat(redis: Redis, key: string, value: HeartbeatValue, heartbeatMs: number): Promise<void> {
  await redis.set(key, JSON.stringify(value), 'PX', 3 * heartbeatMs);
}

/**
 * Runs `tick` every `everyMs`, never two at once (a slow Redis delays the next tick instead of
 * stacking them). The timer does not keep the process alive.
 */
export class Ticker {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(
    private readonly everyMs: number,
    private readonly tick: () => Promise<void>,
  ) {}

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.tick()
        .catch(() => undefined)
        .finally(() => {
          this.#running = undefined;
          this.#schedule(this.everyMs);
        });
    }, ms);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
