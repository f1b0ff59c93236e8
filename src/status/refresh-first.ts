/**
 * Where a tapped or newly bound code's "refresh me first" goes: standalone, to this station's
 * refresher; in a city, to the leader's refresher on a hub (it refreshes for the whole city), and
 * nowhere on a station (its hub's rotation covers bound codes, and its own refresher stays off).
 */
export interface RefreshRequests {
  noteTap(code: string): void;
}

export function refreshFirst(local: RefreshRequests, city: { hub: RefreshRequests | null } | null): (code: string) => void {
  if (city === null) return (code) => local.noteTap(code);
  return (code) => city.hub?.noteTap(code);
}
