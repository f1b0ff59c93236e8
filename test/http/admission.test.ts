import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/http/admission.js';
import { loadConfig } from '../../src/config/load.js';
import { DEADLINE_MARGIN_MS } from '../../src/decisions/decision-service.js';
import { startTestGate } from './helpers.js';

describe('admission control', () => {
  it('sheds beyond the in-flight bound until an admitted decision leaves', () => {
    const a = new Admission({ lagMs: () => 0, maxEventLoopDelayMs: 50, maxInFlight: 2 });
    expect([a.admit(), a.admit(), a.admit()]).toEqual([null, null, 'in-flight']);
    expect(a.inFlight).toBe(2);
    a.leave();
    expect(a.admit()).toBeNull();
    expect(a.counters).toEqual({ admitted: 3, shedEventLoop: 0, shedLoopBusy: 0, shedInFlight: 1 });
  });

  it('sheds while the loop lags more than the bound, and admits again once it catches up', () => {
    let lag = 80;
    const a = new Admission({ lagMs: () => lag, maxEventLoopDelayMs: 50, maxInFlight: 100 });
    expect(a.admit()).toBe('event-loop');
    expect(a.inFlight).toBe(0);
    lag = 50;
    expect(a.admit()).toBeNull();
    expect(a.counters).toEqual({ admitted: 1, shedEventLoop: 1, shedLoopBusy: 0, shedInFlight: 0 });
  });

  it('does not shed on lag while nothing waits for the ministry: cache hits wait on no timer', () => {
    let waiting = 0;
    const a = new Admission({ lagMs: () => 80, waiting: () => waiting, maxEventLoopDelayMs: 50, maxInFlight: 100 });
    expect(a.admit()).toBeNull();
    waiting = 3;
    expect(a.admit()).toBe('event-loop');
  });

  it('sheds while the loop is saturated and decisions wait for the ministry, though its timers run on time', () => {
    let busy = 0.9;
    let waiting = 0;
    const a = new Admission({ lagMs: () => 0, waiting: () => waiting, busy: () => busy, maxEventLoopDelayMs: 10, maxEventLoopUtilization: 0.6, maxInFlight: 100 });
    expect(a.admit()).toBeNull(); // nothing waits: a cache hit is answered at once, however busy the loop
    waiting = 1;
    expect(a.admit()).toBe('loop-busy');
    busy = 0.6;
    expect(a.admit()).toBeNull();
    expect(a.counters).toEqual({ admitted: 2, shedEventLoop: 0, shedLoopBusy: 1, shedInFlight: 0 });
    expect(a.loopSheds().total).toBe(1);
  });

  it('sheds for the busy share only in a flood of new codes, not for a busy station\'s occasional one', () => {
    let waiting = 3;
    const a = new Admission({ lagMs: () => 0, waiting: () => waiting, busy: () => 0.9, maxEventLoopDelayMs: 10, maxEventLoopUtilization: 0.6, busyShedFrom: 32, maxInFlight: 1000 });
    expect(a.admit()).toBeNull();
    waiting = 32;
    expect(a.admit()).toBe('loop-busy');
  });

  it('never sheds for the busy share at 1, and sheds for it by default', () => {
    const a = new Admission({ lagMs: () => 0, waiting: () => 1, busy: () => 1, maxEventLoopDelayMs: 10, maxEventLoopUtilization: 1, maxInFlight: 100 });
    expect(a.admit()).toBeNull();
    const { config } = loadConfig({ noFile: true, env: {} });
    expect(config.limits.maxEventLoopUtilization).toBeLessThan(1);
    const d = new Admission({ lagMs: () => 0, waiting: () => 1, busy: () => 0.95, maxEventLoopDelayMs: 10, maxEventLoopUtilization: config.limits.maxEventLoopUtilization, maxInFlight: 100 });
    expect(d.admit()).toBe('loop-busy');
  });

  it('remembers when it last shed for the loop, for /readyz (injected clock)', () => {
    let now = 1_000;
    let lag = 0;
    const a = new Admission({ lagMs: () => lag, waiting: () => 1, maxEventLoopDelayMs: 10, maxInFlight: 100, now: () => now });
    expect(a.loopSheds()).toEqual({ sinceMs: null, total: 0 });
    a.admit();
    a.leave();
    expect(a.loopSheds()).toEqual({ sinceMs: null, total: 0 });
    lag = 20;
    expect(a.admit()).toBe('event-loop');
    now += 2_500;
    expect(a.loopSheds()).toEqual({ sinceMs: 2_500, total: 1 });
  });

  it('sheds by default before the loop is later than the deadline margin (issue 20: it waited for 50 ms, answers left late)', () => {
    const { config } = loadConfig({ noFile: true, env: {} });
    expect(config.limits.maxEventLoopDelayMs).toBeLessThan(DEADLINE_MARGIN_MS);
    const a = new Admission({ lagMs: () => DEADLINE_MARGIN_MS, waiting: () => 1, maxEventLoopDelayMs: config.limits.maxEventLoopDelayMs, maxInFlight: config.limits.maxDecisionsInFlight });
    expect(a.admit()).toBe('event-loop');
  });
});

/**
 * The route's half of the count: every admitted decision leaves when it is answered. Were one
 * answered request left counted, a gate would shed everything once `maxDecisionsInFlight`
 * requests had ever been made — a whole service, answering one request at a time.
 */
describe('admission on the decision route', () => {
  it('counts each answered decision out: many more requests than the bound, one after another, are all decided', async () => {
    const t = await startTestGate({ refresher: { enabled: false }, limits: { maxDecisionsInFlight: 2 } });
    try {
      const metric = async (name: string): Promise<number> => {
        const text = await (await fetch(`${t.url}/metrics`)).text();
        const m = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
        return m === null ? Number.NaN : Number(m[1]);
      };
      for (let i = 0; i < 6; i++) {
        const r = await t.post({ gate: 'G1', hesCode: 'A1B2345678' });
        expect(r.status, `request ${i + 1}: ${JSON.stringify(r.body)}`).toBe(200);
      }
      expect(await metric('hes_gate_decision_admission_total{outcome="admitted"}')).toBe(6);
      expect(await metric('hes_gate_decision_admission_total{outcome="shed_in_flight"}')).toBe(0);
      expect(await metric('hes_gate_decisions_in_flight')).toBe(0);
    } finally {
      await t.gate.close();
    }
  });
});
