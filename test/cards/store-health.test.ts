/**
 * One rule for the card store's health: the `store` line of /readyz and `card_store_up` say the
 * same thing, because both read StoreHealth. Against a real SQLite store in a temp directory.
 */
import { describe, expect, it } from 'vitest';
import { StoreHealth, WRITE_FAILURE_WINDOW_MS } from '../../src/cards/store-health.js';
import { openCardStore } from '../../src/cards/store.js';
import { manualClock, tempDir } from './helpers.js';

describe('card store health', () => {
  it('is down for a minute after a failed write and while reads fail, and /readyz says what the metric says', () => {
    const clock = manualClock();
    const store = openCardStore({ dataDir: tempDir(), clock: clock.now });
    const health = new StoreHealth({ clock: clock.now, read: () => store.getBinding('00000000'), countBindings: () => store.countBindings() });
    const readiness = health.readiness();
    const agree = (): boolean => {
      const check = readiness.check();
      expect(check.ok).toBe(health.up());
      return check.ok;
    };

    expect(agree()).toBe(true);
    expect(readiness.check().detail).toBe('0 card bindings');

    health.writeFailed();
    clock.advance(WRITE_FAILURE_WINDOW_MS - 1);
    expect(agree()).toBe(false);
    expect(readiness.check().detail).toMatch(/a write failed 60 s ago/);
    clock.advance(1);
    expect(agree()).toBe(true);

    store.close();
    expect(agree()).toBe(false);
    expect(readiness.check().detail).toBe('an indexed read failed');
  });
});
