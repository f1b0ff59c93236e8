/** Which files take a vehicle to the head's version: deltas when its version is in the chain, else the snapshot. */
import { describe, expect, it } from 'vitest';
import type { FileRef, ListHead } from '../../../src/vehicles/list/types.js';
import { planFetch } from '../../../src/vehicles/vehicle/fetch-plan.js';

const ref = (version: number, base: number | null, bytes: number): FileRef => ({ name: `${String(version).padStart(64, '0')}.hgvl`, bytes, version, base });

function head(snapshot: FileRef, deltas: FileRef[]): ListHead {
  return { format: 1, keyId: 'k1', version: deltas.at(-1)?.version ?? snapshot.version, issuedAt: 0, horizonMs: 1, snapshot, deltas };
}

describe('the fetch plan', () => {
  const s10 = ref(10, null, 1000);
  const chain = [ref(11, 10, 50), ref(12, 11, 50), ref(13, 12, 50)];

  it('takes the snapshot and every delta with nothing held', () => {
    expect(planFetch(head(s10, chain), null)).toEqual({ kind: 'snapshot', files: [s10, ...chain] });
  });

  it('takes only the deltas after the version held', () => {
    expect(planFetch(head(s10, chain), 11)).toEqual({ kind: 'deltas', files: chain.slice(1) });
    expect(planFetch(head(s10, chain), 10)).toEqual({ kind: 'deltas', files: chain });
  });

  it('has nothing to do at the head version', () => {
    expect(planFetch(head(s10, chain), 13)).toEqual({ kind: 'current' });
  });

  it('falls back to the snapshot when the version held is not in the chain', () => {
    expect(planFetch(head(s10, chain), 7)).toEqual({ kind: 'snapshot', files: [s10, ...chain] });
  });

  it('takes the snapshot when the deltas weigh more than it and its own deltas', () => {
    const heavy = [ref(11, 10, 900), ref(12, 11, 900)];
    expect(planFetch(head(ref(10, null, 100), heavy), 10)).toEqual({ kind: 'deltas', files: heavy });
    // A chain from the version held that is heavier than the snapshot route (a head naming older deltas too).
    const older = [ref(9, 8, 5000), ref(10, 9, 10)];
    const h: ListHead = { ...head(ref(10, null, 100), []), deltas: older, version: 10 };
    expect(planFetch(h, 8)).toEqual({ kind: 'snapshot', files: [h.snapshot] });
  });
});
