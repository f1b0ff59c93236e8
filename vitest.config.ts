import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Three projects. `unit` is everything that does not time decisions; `timing` holds the tests
 * whose assertions are wall-clock bounds (deadlines, margins). `timing` runs after `unit` has
 * finished (sequence.groupOrder), so no other test file competes with it for the CPU, and it
 * retries once for a scheduling stall of the machine. `vitest run` runs both, in that order;
 * `vitest run --project unit` skips the timed ones. `overload` (saturation against a service in
 * its own process) runs last, alone too: beside the timed tests it would eat their margins.
 */
const TIMING = ['test/resilience/**/*.test.ts', 'test/promises/timing/**/*.test.ts', 'test/city/e2e/**/*.test.ts'];
/** Saturation: a service in its own process driven past its limits; alone, after the timed tests. */
const OVERLOAD = ['test/hardening/overload*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // One temp folder per run, removed at the end (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...TIMING, ...OVERLOAD],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'timing',
          include: TIMING,
          retry: 1,
          // One file at a time: the timed files would otherwise share the two cores with each other.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'overload',
          include: OVERLOAD,
          retry: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
