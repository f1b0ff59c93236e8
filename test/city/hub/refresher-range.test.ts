import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCardStore, type CardStore } from '../../../src/cards/store.js';
import { createMinistryClient } from '../../../src/ministry/client.js';
import type { MinistryClient } from '../../../src/ministry/types.js';
import { SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../../src/simulator/index.js';
import { createRefresher } from '../../../src/status/refresher.js';
import type { CheckedCodes } from '../../../src/status/types.js';
import { cardIdFor, codeFor, tempDir } from '../../cards/helpers.js';

let sim: Simulator;
let client: MinistryClient;
let store: CardStore;

beforeEach(async () => {
  sim = await startSimulator();
  client = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
  store = openCardStore({ dataDir: tempDir() });
});
afterEach(async () => {
  await client.close();
  await sim.close();
  store.close();
});

describe('the refresher tells its sink which rotation range a step covered', () => {
  it('(after, through] per step in code order, through null at the rotation\'s end, none for a step of recent taps only', async () => {
    const codes = [0, 1, 2, 3, 4].map(codeFor);
    store.putBindings(codes.map((hesCode, i) => ({ cardId: cardIdFor(i), hesCode, profile: 'standard' })));
    const ranges: Array<CheckedCodes | undefined> = [];
    const asked: string[][] = [];
    const r = createRefresher({
      store,
      ministry: client,
      chunkSize: 2,
      minRotationMs: 60_000,
      sink: {
        ingestMany(results, _at, checked) {
          asked.push([...results].map(([c]) => c));
          ranges.push(checked);
        },
      },
    });
    for (let i = 0; i < 3; i++) await r.runOnce();
    expect(ranges).toEqual([
      { after: null, through: codes[1] },
      { after: codes[1], through: codes[3] },
      { after: codes[3], through: null },
    ]);
    // The next rotation may not start yet: a tapped code alone has no range.
    r.noteTap('ZZZZZZZZZ9');
    await r.runOnce();
    expect(asked[3]).toEqual(['ZZZZZZZZZ9']);
    expect(ranges[3]).toBeUndefined();
  });
});
