/**
 * The rotation over all bound codes: a cursor walking them in code order, one chunk per
 * refresher step, and the bookkeeping that says when every bound code has been asked.
 *
 * A rotation that reaches the end starts again from the first code, but not sooner than
 * `minRotationMs` after the previous one began, so a small station does not ask the ministry
 * about the same few codes every second.
 */
import type { BoundCodes, RotationEvent } from './refresher-types.js';

/** What one step takes from the rotation, decided before the call and settled after it. */
export interface RotationPlan {
  /** Codes added to the chunk from the rotation (those already chosen as recent taps not counted). */
  fromRotation: number;
  /** Where the cursor stands if the call succeeds. */
  nextCursor: string | undefined;
  /** The call covers the last bound codes: on success the rotation is complete. */
  rotationEnds: boolean;
}

export interface RotationStats {
  rotationsCompleted: number;
  lastRotationDurationMs: number | undefined;
  lastRotationCompletedAt: number | undefined;
  lastRotationStartedAt: number | undefined;
}

export class Rotation {
  readonly #store: BoundCodes;
  readonly #minRotationMs: number;
  #cursor: string | undefined;
  #current: { startedAt: number; codes: number; calls: number; failedCalls: number } | undefined;
  #lastStartedAt: number | undefined;
  readonly stats: RotationStats = {
    rotationsCompleted: 0,
    lastRotationDurationMs: undefined,
    lastRotationCompletedAt: undefined,
    lastRotationStartedAt: undefined,
  };

  constructor(store: BoundCodes, minRotationMs: number) {
    this.#store = store;
    this.#minRotationMs = minRotationMs;
  }

  /** The last code a successful step asked from the rotation; undefined at a rotation's start. */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  /** Add up to `room` codes after the cursor to `chosen`, unless a new rotation may not start yet. */
  plan(now: number, room: number, chosen: Set<string>): RotationPlan {
    const plan: RotationPlan = { fromRotation: 0, nextCursor: this.#cursor, rotationEnds: false };
    const mayStart = this.#cursor !== undefined || this.#lastStartedAt === undefined || now - this.#lastStartedAt >= this.#minRotationMs;
    if (room <= 0 || !mayStart) return plan;
    const slice = this.#store.iterateCodes(this.#cursor, room);
    for (const code of slice) {
      if (!chosen.has(code)) {
        chosen.add(code);
        plan.fromRotation++;
      }
    }
    const last = slice[slice.length - 1];
    if (last === undefined) plan.rotationEnds = this.#cursor !== undefined;
    else {
      plan.nextCursor = last;
      // Peek one further so a rotation of exactly k·room codes ends on its last full chunk.
      plan.rotationEnds = slice.length < room || this.#store.iterateCodes(last, 1).length === 0;
    }
    if (plan.rotationEnds) plan.nextCursor = undefined;
    return plan;
  }

  /** A call is about to be made for the plan: a rotation starting from the first code begins now. */
  begin(plan: RotationPlan, now: number): void {
    if (this.#current === undefined && this.#cursor === undefined && plan.fromRotation > 0) {
      this.#current = { startedAt: now, codes: 0, calls: 0, failedCalls: 0 };
    }
  }

  /**
   * A step made no call (nothing to ask): when the codes after the cursor were unbound
   * meanwhile, the rotation is over. Returns the completed rotation, if any.
   */
  idle(plan: RotationPlan, now: number): RotationEvent | undefined {
    if (!plan.rotationEnds) return undefined;
    this.#cursor = undefined;
    return this.#complete(now);
  }

  /** The call started at `startedAt` succeeded at `at`: move the cursor. Returns the completed rotation, if any. */
  succeeded(plan: RotationPlan, startedAt: number, at: number): RotationEvent | undefined {
    if (this.#cursor === undefined && plan.fromRotation > 0) this.#lastStartedAt = startedAt;
    this.#cursor = plan.nextCursor;
    const r = this.#current;
    if (r === undefined) return undefined;
    r.codes += plan.fromRotation;
    if (plan.fromRotation > 0) r.calls++;
    return plan.rotationEnds ? this.#complete(at) : undefined;
  }

  /** The call failed: the cursor stays, so the same codes are asked again after the back-off. */
  failed(plan: RotationPlan): void {
    if (this.#current !== undefined && plan.fromRotation > 0) {
      this.#current.calls++;
      this.#current.failedCalls++;
    }
  }

  #complete(at: number): RotationEvent | undefined {
    const r = this.#current;
    if (r === undefined) return undefined;
    this.#current = undefined;
    this.stats.rotationsCompleted++;
    this.stats.lastRotationDurationMs = at - r.startedAt;
    this.stats.lastRotationCompletedAt = at;
    this.stats.lastRotationStartedAt = r.startedAt;
    return { codes: r.codes, calls: r.calls, failedCalls: r.failedCalls, durationMs: at - r.startedAt, completedAt: at };
  }
}
