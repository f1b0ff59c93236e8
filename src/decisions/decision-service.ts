/**
 * The path of a tap: credential → resolve → status → decide → record.
 *
 * Shared by the HTTP API and the serial station runtime. Resolution and the status lookup are
 * the only waits; a cache hit never leaves the current tick. The gate's deadline bounds the
 * wait for the ministry; the ministry call itself is not aborted (see status/ministry-lookup.ts).
 */
import type { Clock, Credential, Decision, Reason, Source, StatusOutcome, Verdict } from '../types.js';
import { decide, type Resolution } from '../policy/decide.js';
import type { GateInfo, GateLookup } from '../policy/gate-lookup.js';
import type { StatusLookup } from '../status/types.js';
import type { RepeatTaps } from './repeat-taps.js';
import { resolveCredential, type BindingLookup } from './resolve.js';
import { decisionIds, type DecisionIds } from './decision-id.js';

export type { BindingLookup } from './resolve.js';

/**
 * A vehicle's card list as a tap needs it (src/vehicles/vehicle/): for a canonical card id, the
 * card's profile and the status outcome its list entry gives now; undefined when a list is held
 * and the card is not on it (unbound); 'no list' before any list was verified (the outage policy
 * decides). Answers in the current tick, never waits.
 */
export interface CardListLookup {
  lookup(cardId: string): { profile: string; outcome: StatusOutcome } | undefined | 'no list';
}

export interface DecisionResult extends Decision {
  decisionId: string;
  elapsedMs: number;
}

/** What the record stage sees: no credential values, only what operators may know. */
export interface DecisionEvent {
  gate: string;
  group: string;
  reader: string | undefined;
  kind: Credential['kind'];
  verdict: Verdict;
  reason: Reason;
  source: Source;
  decisionId: string;
  elapsedMs: number;
  at: number;
}

export interface DecisionServiceOptions {
  status: StatusLookup;
  gates: GateLookup;
  clock: Clock;
  /** A monotonic clock in ms for elapsed times. @default performance.now */
  monotonic?: () => number;
  /** Card bindings; without them every card is unbound. */
  bindings?: BindingLookup;
  /** On a vehicle: card taps are decided from the signed card list instead of bindings (no HES code on board). */
  cardList?: CardListLookup;
  repeatTaps?: RepeatTaps;
  /** Margin kept for the rest of the work after the status wait, in ms. @default DEADLINE_MARGIN_MS */
  marginMs?: number;
  /**
   * How late the event loop's timers fire, ms (ops/event-loop.ts `timerLagMs`): the deadline
   * timer of a status wait fires about that late, so the wait is that much shorter (at most by
   * half) and the answer still leaves by the deadline. @default 0
   */
  lateness?: () => number;
  /** Told of every card tap's code so the refresher can put it first. */
  onCardTap?: (hesCode: string) => void;
  /** Told of every decision (observability, journal, live feed). */
  onDecision?: (event: DecisionEvent) => void;
  /** Where decision ids come from. @default UUID v7 ids (decision-id.ts) */
  ids?: DecisionIds;
}

/**
 * Time kept for the rest of a decision after its status wait, ms: the deadline timer that ends
 * the wait must fire within it. Admission's default lag bound (`limits.maxEventLoopDelayMs`)
 * stays under it, so a loop late enough to break it sheds instead.
 */
export const DEADLINE_MARGIN_MS = 15;

export class DecisionService {
  private readonly o: DecisionServiceOptions;
  private readonly monotonic: () => number;
  private readonly marginMs: number;
  private readonly ids: DecisionIds;

  constructor(options: DecisionServiceOptions) {
    this.o = options;
    this.ids = options.ids ?? decisionIds();
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.marginMs = options.marginMs ?? DEADLINE_MARGIN_MS;
  }

  /**
   * Decide a credential. `startedAt` (monotonic ms) is when the credential arrived, so time
   * spent before this call (parsing a request, framing a serial read) counts against the
   * deadline. Resolves to undefined only for a gate that is not configured while unknown gates
   * are refused.
   */
  async decide(credential: Credential, startedAt = this.monotonic()): Promise<DecisionResult | undefined> {
    return this.decideNow(credential, startedAt);
  }

  /**
   * The same decision, answered in the current tick when nothing waits (a cache hit, a finding):
   * a promise only when the status lookup waits for the ministry. The HTTP route uses it so a
   * cache hit costs no promise and no extra turn of the microtask queue.
   */
  decideNow(credential: Credential, startedAt = this.monotonic()): DecisionResult | undefined | Promise<DecisionResult> {
    const gate = this.o.gates(credential.gate);
    if (gate === undefined) return undefined;

    const { cardList } = this.o;
    const { resolution, cardId } = resolveCredential(credential, cardList === undefined ? this.o.bindings : undefined);
    if (cardList !== undefined && cardId !== null) {
      const listed = cardList.lookup(cardId);
      if (listed === 'no list') return this.finish(credential, gate, { kind: 'listed' }, cardId, { kind: 'unavailable' }, startedAt);
      if (listed !== undefined) return this.finish(credential, gate, { kind: 'listed', profile: listed.profile }, cardId, listed.outcome, startedAt);
    }
    if (cardId !== null && resolution.kind === 'code') this.o.onCardTap?.(resolution.code);

    if (resolution.kind !== 'code') return this.finish(credential, gate, resolution, cardId, undefined, startedAt);
    const left = gate.policy.deadlineMs - this.marginMs - (this.monotonic() - startedAt);
    // The deadline timer fires about as late as the loop's timers have been firing: set it that
    // much earlier, but never cut the wait below half of what is left, so a ministry that
    // answers at once (most do) is still waited for while the loop runs late.
    const late = this.o.lateness?.() ?? 0;
    const budget = left - (late < left / 2 ? late : left / 2);
    const found = this.o.status.lookup(resolution.code, budget);
    if (found instanceof Promise) return found.then((status) => this.finish(credential, gate, resolution, cardId, status, startedAt));
    return this.finish(credential, gate, resolution, cardId, found, startedAt);
  }

  private finish(credential: Credential, gate: GateInfo, resolution: Resolution, cardId: string | null, status: StatusOutcome | undefined, startedAt: number): DecisionResult {
    const { policy } = gate;
    const now = this.o.clock();
    const lastPassAt =
      cardId !== null && policy.repeatTapWindowMs > 0 ? this.o.repeatTaps?.lastPassAt(gate.group, cardId) : undefined;
    const decision = decide({ now, policy, resolution, status, lastPassAt });
    if (decision.verdict === 'pass' && cardId !== null && policy.repeatTapWindowMs > 0) {
      this.o.repeatTaps?.recordPass(gate.group, cardId, now);
    }

    const result: DecisionResult = {
      verdict: decision.verdict,
      reason: decision.reason,
      source: decision.source,
      decisionId: this.ids.next(now),
      elapsedMs: Math.round((this.monotonic() - startedAt) * 1000) / 1000,
    };
    this.o.onDecision?.({
      gate: credential.gate,
      group: gate.group,
      reader: credential.reader,
      kind: credential.kind,
      verdict: result.verdict,
      reason: result.reason,
      source: result.source,
      decisionId: result.decisionId,
      elapsedMs: result.elapsedMs,
      at: now,
    });
    return result;
  }
}
