/**
 * A default written in code (for callers that pass no option) must be the configuration's
 * default: one value per setting, whether hes-gate is started from a file or a module is used
 * alone. Each case observes the module's behaviour, not its source text.
 */
import { describe, expect, it } from 'vitest';
import { createRefresher, type BackoffEvent } from '../../src/status/refresher.js';
import { defaultOf } from '../../src/config/settings.js';
import { HesGateError } from '../../src/errors.js';
import { GuardedMinistry } from '../../src/ministry/guard.js';

describe('code defaults equal configuration defaults', () => {
  it('refresher: the first back-off and its cap', async () => {
    const failing = { checkHesCodes: () => Promise.reject(new HesGateError('HG_MINISTRY_SERVER_ERROR', 'answered 503')) };
    const refresher = createRefresher({
      store: { iterateCodes: (after) => (after === undefined ? ['A1B2345678'] : []) },
      ministry: failing,
      sink: { ingestMany: () => undefined },
      minRotationMs: 0,
      // No jitter: the delay is the exponential step itself.
      random: () => 1,
    });
    const delays: number[] = [];
    refresher.on('backoff', (e: BackoffEvent) => delays.push(e.delayMs));
    for (let i = 0; i < 12; i++) await refresher.runOnce();
    expect(delays[0]).toBe(defaultOf('refresher.backoffInitialMs'));
    expect(Math.max(...delays)).toBe(defaultOf('refresher.backoffMaxMs'));
  });

  it('ministry guard: circuit, retries and the in-flight bound', () => {
    const guard = new GuardedMinistry({} as ConstructorParameters<typeof GuardedMinistry>[0], { clock: () => 0 });
    // The effective options (a private field: the guard exposes no getter, and this test only reads).
    const o = (guard as unknown as { o: Record<string, unknown> }).o;
    for (const key of ['consecutiveFailures', 'failureRate', 'minimumCalls', 'baseEjectionMs', 'maxEjectionMs', 'maxRetries', 'maxInFlight']) {
      expect(o[key], key).toBe(defaultOf(`resilience.${key}`));
    }
  });
});
