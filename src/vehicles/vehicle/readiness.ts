/**
 * The vehicle list on /readyz, informational (shown, never unready): a vehicle with a stale list
 * or none still answers every tap, by its outage policy, as a station does with the ministry down.
 */
import type { ReadinessCheck } from '../../types.js';
import type { OnBoardReport } from './on-board-types.js';

function age(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}

export function vehicleReadiness(report: () => OnBoardReport, maxListAgeMs: number): ReadinessCheck {
  return {
    name: 'vehicle list',
    check() {
      const r = report();
      const link = `link ${r.list.link}`;
      const behind = r.clockBehindMs > 60_000 ? `; the vehicle clock is ${age(r.clockBehindMs)} behind the signed list time (the signed time is used)` : '';
      if (r.list.version === null || r.listAgeMs === null) return { ok: false, detail: `no list yet: the outage policy decides card taps (${link})${behind}` };
      if (r.listAgeMs > maxListAgeMs) {
        return { ok: false, detail: `version ${r.list.version} is ${age(r.listAgeMs)} old, over vehicle.maxListAgeMs (${age(maxListAgeMs)}): the outage policy decides card taps (${link})${behind}` };
      }
      return { ok: true, detail: `version ${r.list.version}, ${r.list.count ?? 0} cards, ${age(r.listAgeMs)} old (${link})${behind}` };
    },
  };
}
