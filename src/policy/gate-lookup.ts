/**
 * Questions about the configured gates as a whole: which policy a gate id decides with, whether
 * any gate needs the ministry's plus fields, and whether every gate can still decide when the
 * ministry is down. The composition root wires the answers; the rules live here, next to the
 * policy they read.
 */
import type { GatePolicy } from './types.js';

/** The configured gates, as these rules need them (a structural slice of `config.gates`). */
export interface GatesSetting {
  defaults: GatePolicy;
  /** Refuse gate ids not in `list`. */
  requireKnown: boolean;
  list: ReadonlyArray<{ id: string; group: string; policy: GatePolicy }>;
}

export interface GateInfo {
  group: string;
  policy: GatePolicy;
}

/** The gate's group and policy; undefined when the gate is unknown and unknown gates are refused. */
export type GateLookup = (gate: string) => GateInfo | undefined;

/**
 * A gate id → its group and policy. A gate not listed decides with the defaults (its group is
 * its own id), or is unknown (undefined) when `requireKnown` is set.
 */
export function gateLookup(gates: GatesSetting): GateLookup {
  const byId = new Map(gates.list.map((g) => [g.id, { group: g.group, policy: g.policy }]));
  const { defaults, requireKnown } = gates;
  return (id) => byId.get(id) ?? (requireKnown ? undefined : { group: id, policy: defaults });
}

/** Every policy a decision can use: the defaults (for unlisted gates) and each listed gate's. */
export function allPolicies(gates: GatesSetting): GatePolicy[] {
  return [gates.defaults, ...gates.list.map((g) => g.policy)];
}

/**
 * Whether the ministry's plus calls are needed: only for gates that require vaccination,
 * immunity or a test. Other stations never ask for those fields (keep only what a decision needs).
 */
export function needsPlusFields(policies: readonly GatePolicy[]): boolean {
  return policies.some((p) => p.requirement !== 'none');
}

/** Whether every gate still decides (pass, or last-known) when the ministry cannot answer. */
export function outageFallbackArmed(policies: readonly GatePolicy[]): boolean {
  return policies.every((p) => p.ministryUnavailable !== 'deny');
}
