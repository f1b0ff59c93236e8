/**
 * Prometheus metrics. Modules report what happened (events, counters, status objects); this
 * module turns that into metrics. Label values are closed sets (reasons, sources, endpoints,
 * error codes, gate ids): never a HES code, card id or payload.
 *
 * The hot path pays for a few Map reads and a bucket increment per decision (decision-tally.ts);
 * everything else is read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MinistryCallEvent } from '../ministry/types.js';
import type { Clock } from '../types.js';
import type { CircuitReadout, DecisionRecord, MinistryHealthReadout, StatusReadout } from './sources.js';
import type { MinistryState } from './ministry-health.js';
import { DecisionHistogram, GateTally, decisionCounter } from './decision-tally.js';

/** Buckets around a 150 ms deadline, fine at the low end where cache hits live. */
const DECISION_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.125, 0.15, 0.155, 0.175, 0.2, 0.3, 0.5, 1];

export interface Metrics {
  registry: Registry;
  decision(e: Pick<DecisionRecord, 'gate' | 'verdict' | 'reason' | 'source' | 'elapsedMs'>): void;
  ministryCall(e: MinistryCallEvent): void;
  /** Register a scrape-time collector for modules that keep their own counters. */
  addCollector(fn: (registry: Registry) => void): void;
}

export interface MetricsSources {
  status: StatusReadout;
  ministryHealth: MinistryHealthReadout;
  clock: Clock;
  guard?: CircuitReadout;
  /** Configured gate ids: the only values of the `gate` label (others count as `other`). */
  gates?: readonly string[];
  /** What runs: exported as `hes_gate_build_info{version,commit}`. */
  build?: { version: string; commit: string };
}

/** The label value for a gate the configuration does not list: keeps the label set bounded. */
export const OTHER_GATE = 'other';

const MINISTRY_STATES: readonly MinistryState[] = ['unknown', 'up', 'degraded', 'down', 'credentials-refused'];

/**
 * prom-client's default collector adds three gauges named `*_total` (active handles, requests,
 * resources), which the Prometheus naming rules reserve for counters: `promtool check metrics`
 * refuses them. Their per-type siblings (`nodejs_active_handles{type}` …) carry the same figure.
 */
const NON_CONFORMING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * A gauge without labels that is absent from the exposition until its value is known (prom-client
 * prints an unset gauge as 0, which a dashboard would read as a real figure).
 */
export class KnownGauge extends Gauge {
  private readonly read: () => number | undefined;

  constructor(options: { name: string; help: string; registers: Registry[]; value: () => number | undefined }) {
    const { value, ...config } = options;
    super({
      ...config,
      collect() {
        const v = value();
        if (v !== undefined) this.set(v);
      },
    });
    this.read = value;
  }

  override async get(): ReturnType<Gauge['get']> {
    const metric = await super.get();
    return this.read() === undefined ? { ...metric, values: [] } : metric;
  }
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  // Standard names (process_*, nodejs_*), so off-the-shelf Node.js dashboards find them.
  collectDefaultMetrics({ register: registry });
  for (const name of NON_CONFORMING_DEFAULTS) registry.removeSingleMetric(name);

  const build = sources.build ?? { version: 'unknown', commit: 'unknown' };
  new Gauge({
    name: 'hes_gate_build_info',
    help: 'Always 1; the labels say which version and commit of hes-gate runs.',
    labelNames: ['version', 'commit'] as const,
    registers: [registry],
  }).set({ version: build.version, commit: build.commit }, 1);

  const knownGates = new Set(sources.gates ?? []);

  // Decisions are tallied in plain numbers and exported at scrape time (decision-tally.ts).
  const tallies = new Map<string, GateTally>();
  for (const gate of knownGates) tallies.set(gate, new GateTally(gate, DECISION_BUCKETS));
  const otherTally = new GateTally(OTHER_GATE, DECISION_BUCKETS);
  const allTallies = (): Iterable<GateTally> => [...tallies.values(), otherTally];
  decisionCounter(registry, allTallies);
  new DecisionHistogram(registry, DECISION_BUCKETS, allTallies);
  const ministryCalls = new Counter({
    name: 'hes_gate_ministry_calls_total',
    help: 'HTTP calls to the ministry by endpoint and outcome (ok, not-found, expired, or an error code).',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [registry],
  });
  const ministrySeconds = new Histogram({
    name: 'hes_gate_ministry_call_duration_seconds',
    help: 'Ministry call latency by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });

  const { status, ministryHealth, clock } = sources;
  const c = status.counters;
  new Counter({
    name: 'hes_gate_status_lookups_total',
    help: 'Status lookups: hit (fresh cache), miss (went to the ministry), stale (unavailable, last-known used), unknown (unavailable, nothing known), coalesced (joined a call in flight).',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.labels('hit').inc(c.hits);
      this.labels('miss').inc(c.misses);
      this.labels('stale').inc(c.stale);
      this.labels('unknown').inc(c.unknown);
      this.labels('coalesced').inc(c.coalesced);
    },
  });
  new Counter({
    name: 'hes_gate_ministry_unrecognised_status_total',
    help: 'Ministry answers whose health status was neither RISKLESS nor RISKY (an answer, not a failure; never passes as RISKLESS).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(c.unrecognised);
    },
  });
  new Gauge({
    name: 'hes_gate_status_cache_entries',
    help: 'Codes whose status is held (fresh or last-known).',
    registers: [registry],
    collect() {
      this.set(status.size);
    },
  });
  new Gauge({
    name: 'hes_gate_status_oldest_age_seconds',
    help: 'Age of the oldest status held.',
    registers: [registry],
    collect() {
      this.set(status.oldestAgeMs(clock()) / 1000);
    },
  });
  new Gauge({
    name: 'hes_gate_ministry_inflight_codes',
    help: 'Codes with a tap-initiated ministry call in flight.',
    registers: [registry],
    collect() {
      this.set(status.inflightCount);
    },
  });
  new Gauge({
    name: 'hes_gate_ministry_up',
    help: 'Ministry state from recent calls: 1 up, 0.5 degraded or unknown, 0 down or credentials refused.',
    registers: [registry],
    collect() {
      const s = ministryHealth.state;
      this.set(s === 'up' ? 1 : s === 'degraded' || s === 'unknown' ? 0.5 : 0);
    },
  });
  // One series per state, always present (1 for the current one): alerts and dashboards never
  // see series appear and disappear as the state changes.
  new Gauge({
    name: 'hes_gate_ministry_state',
    help: 'Ministry state from recent calls: 1 for the current state (unknown, up, degraded, down, credentials-refused), 0 for the others.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      for (const s of MINISTRY_STATES) this.labels(s).set(ministryHealth.state === s ? 1 : 0);
    },
  });

  const guard = sources.guard;
  if (guard !== undefined) {
    new Gauge({
      name: 'hes_gate_ministry_circuit_state',
      help: 'Circuit breaker around the ministry: 0 closed, 1 half-open, 2 open.',
      registers: [registry],
      collect() {
        const s = guard.snapshot().state;
        this.set(s === 'closed' ? 0 : s === 'half-open' ? 1 : 2);
      },
    });
    new Counter({
      name: 'hes_gate_ministry_guard_total',
      help: 'Resilience guard actions: rejected (failed fast while open or paused), shed (over maxInFlight), retries, retries_denied (over the retry budget).',
      labelNames: ['action'] as const,
      registers: [registry],
      collect() {
        const g = guard.snapshot();
        this.reset();
        this.labels('rejected').inc(g.rejected);
        this.labels('shed').inc(g.shed);
        this.labels('retries').inc(g.retries);
        this.labels('retries_denied').inc(g.retriesDenied);
      },
    });
  }

  const collectors: Array<(r: Registry) => void> = [];

  return {
    registry,
    decision(e) {
      (tallies.get(e.gate) ?? otherTally).add(e.verdict, e.reason, e.source, e.elapsedMs / 1000);
    },
    ministryCall(e) {
      ministryCalls.labels(e.endpoint, e.outcome).inc();
      ministrySeconds.labels(e.endpoint).observe(e.durationMs / 1000);
    },
    addCollector(fn) {
      collectors.push(fn);
      fn(registry);
    },
  };
}

/** What overload metrics read (narrow: the event-loop monitor and admission control). */
export interface OverloadSources {
  eventLoop: { window(): { p99Ms: number; maxMs: number }; utilization(): number };
  admission: { readonly inFlight: number; readonly counters: { admitted: number; shedEventLoop: number; shedLoopBusy: number; shedInFlight: number } };
}

/**
 * Event-loop delay and decision shedding, read at scrape time. The shed share an alert wants is
 * `sum(rate(hes_gate_decision_admission_total{outcome!="admitted"}[5m])) / sum(rate(hes_gate_decision_admission_total[5m]))`.
 */
export function overloadMetrics(metrics: Metrics, sources: OverloadSources): void {
  const registry = metrics.registry;
  const { eventLoop, admission } = sources;
  new Gauge({
    name: 'hes_gate_event_loop_delay_seconds',
    help: 'How late the event loop ran (perf_hooks.monitorEventLoopDelay) over the last 10 s window, by statistic (p99, max).',
    labelNames: ['stat'] as const,
    registers: [registry],
    collect() {
      const w = eventLoop.window();
      this.labels('p99').set(w.p99Ms / 1000);
      this.labels('max').set(w.maxMs / 1000);
    },
  });
  new Gauge({
    name: 'hes_gate_event_loop_utilization_ratio',
    help: 'Share of recent time the event loop was busy (0-1, smoothed over about 30 ms; admission sheds decisions waiting for the ministry above limits.maxEventLoopUtilization).',
    registers: [registry],
    collect() {
      this.set(eventLoop.utilization());
    },
  });
  new Gauge({
    name: 'hes_gate_decisions_in_flight',
    help: 'HTTP decision requests admitted and not yet answered.',
    registers: [registry],
    collect() {
      this.set(admission.inFlight);
    },
  });
  new Counter({
    name: 'hes_gate_decision_admission_total',
    help: 'HTTP decision requests by admission outcome: admitted, shed_event_loop (loop lagging), shed_loop_busy (loop saturated), shed_in_flight (too many waiting); shed ones got 503 HG_OVERLOADED.',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      const c = admission.counters;
      this.reset();
      this.labels('admitted').inc(c.admitted);
      this.labels('shed_event_loop').inc(c.shedEventLoop);
      this.labels('shed_loop_busy').inc(c.shedLoopBusy);
      this.labels('shed_in_flight').inc(c.shedInFlight);
    },
  });
}

/** What controller metrics read: the station's device status (narrow). */
export interface ControllerStatusSource {
  status(): ReadonlyArray<{ id: string; role: string; state: string; commandFailures?: number }>;
}

/**
 * Gate controllers whose commands fail or time out (a relay board that stopped answering, a
 * port that is gone): 1 until a command succeeds again. Alert on `hes_gate_device_command_failing == 1`.
 */
export function controllerMetrics(metrics: Metrics, station: ControllerStatusSource): void {
  new Gauge({
    name: 'hes_gate_device_command_failing',
    help: 'Gate controller whose last command failed or timed out: 1 until a command succeeds again, 0 otherwise.',
    labelNames: ['device'] as const,
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const d of station.status()) if (d.role === 'controller') this.labels(d.id).set((d.commandFailures ?? 0) > 0 ? 1 : 0);
    },
  });
}
