import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE } from '../../src/simulator/index.js';
import type { LiveDecision, LiveSnapshot } from '../../src/ops/live-wire.js';
import { startTestGate } from '../http/helpers.js';
import { SseReader } from './helpers.js';

describe('the live feed of a whole gate', () => {
  let t: Awaited<ReturnType<typeof startTestGate>>;
  beforeAll(async () => {
    t = await startTestGate({}, { HES_GATE_ADMIN_TOKEN: 'operator-secret-token' });
  });
  afterAll(async () => {
    await t?.gate.close();
  });

  it('streams the decisions the gate makes, without any code, and needs the operator token', async () => {
    expect((await fetch(`${t.url}/v1/live/events`)).status).toBe(401);
    expect((await fetch(`${t.url}/live`)).status).toBe(200);
    const res = await fetch(`${t.url}/v1/live/events`, { headers: { authorization: 'Bearer operator-secret-token' } });
    expect(res.status).toBe(200);
    const sse = new SseReader(res.body!);
    const [first] = (await sse.waitFor('snapshot')) as LiveSnapshot[];
    expect(first).toMatchObject({ environment: 'simulator', devices: [] });

    expect((await t.post({ gate: 'G1', hesCode: SAMPLE.RISKY })).body).toMatchObject({ verdict: 'deny', reason: 'RISKY' });
    expect((await t.post({ gate: 'G2', hesCode: SAMPLE.RISKLESS })).body).toMatchObject({ verdict: 'pass' });
    let seen: LiveDecision[] = [];
    for (let n = 2; seen.length < 2; n++) {
      seen = ((await sse.waitFor('decisions', n)) as Array<{ events: LiveDecision[] }>).flatMap((b) => b.events);
    }
    expect(seen).toMatchObject([
      { gate: 'G1', kind: 'hes', verdict: 'deny', reason: 'RISKY', source: 'ministry' },
      { gate: 'G2', kind: 'hes', verdict: 'pass', reason: 'RISKLESS', source: 'ministry' },
    ]);
    const snapshots = (await sse.waitFor('snapshot', 2)) as LiveSnapshot[];
    expect(snapshots.at(-1)).toMatchObject({ ministry: { state: 'up', circuit: 'closed' }, cache: { entries: 2, misses: 2 }, decisions: 2 });
    expect(snapshots.at(-1)!.minutes.at(-1)).toMatchObject({ pass: 1, deny: 1, ministryCalls: 2 });
    const wire = sse.events.map((e) => e.data).join('\n');
    expect(wire).not.toContain(SAMPLE.RISKY);
    expect(wire).not.toContain(SAMPLE.RISKLESS);
    // Closing the gate with the stream open ends the stream instead of hanging.
    await t.gate.close();
    await sse.done;
    t = undefined as never;
  });
});
