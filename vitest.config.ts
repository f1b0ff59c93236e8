import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects. `unit` is everything that does not time decisions; `timing` holds the tests
 * whose assertions are wall-clock bounds (deadlines, margins). `timing` runs after `unit` has
 * finished (sequence.groupOrder), so no other test file competes with it for the CPU, and it
 * retries once for a scheduling stall of the machine. `vitest run` runs both, in that order;
 * `vitest run --project unit` skips the timed ones.
 */
const TIMING = ['test/resilience/**/*.test.ts', 'test/promises/timing/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...TIMING],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'timing',
          include: TIMING,
          retry: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
