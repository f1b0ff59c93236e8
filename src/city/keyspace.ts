/**
 * The names of everything hes-gate keeps in a city's Redis. One place, so the ACL of each role
 * (ops/redis/users.acl) and the code agree.
 *
 *   hg:<kid>:epoch      string  a random id set once by the first hub: a station that finds another
 *                               epoch (Redis replaced, data lost) resyncs from a snapshot
 *   hg:<kid>:changes    stream  bindings and statuses, in the order hubs wrote them (MAXLEN ~ city.changesMaxLen)
 *   hg:<kid>:bindings   hash    mac(card id) → sealed binding: the bindings snapshot
 *   hg:<kid>:statuses   hash    mac(code) → sealed status: the statuses snapshot
 *   hg:<kid>:digests    hash    the bindings' digest tree: node → XOR of its tags; "@" = the last bindings entry
 *   hg:<kid>:leaf:<abc> hash    mac(card id) → tag of every binding in that leaf (reconcile/digest-tree.ts)
 *   hg:<kid>:lookups    stream  stations' own ministry answers (typed and QR codes), shared (MAXLEN ~ city.lookupsMaxLen)
 *   hg:lease            string  "<hub id>:<token>" with a TTL: the refresher lease
 *   hg:lease:token      counter the fencing token, incremented by each new holder
 *   hg:hb:<node id>     string  a station's or hub's heartbeat (JSON of counts, never codes), with a TTL
 *
 * `<kid>` is the city key's id: a new key is a new key space (city-key.ts).
 */
export const KEY_PREFIX = 'hg:';

export interface CityKeyspace {
  epoch: string;
  changes: string;
  bindings: string;
  statuses: string;
  lookups: string;
  digests: string;
  /** The hash of one digest leaf (the first characters of a binding's field). */
  leaf(path: string): string;
  lease: string;
  leaseToken: string;
  heartbeat(nodeId: string): string;
  /** Pattern of every heartbeat key (for SCAN). */
  heartbeats: string;
}

export function cityKeyspace(kid: string): CityKeyspace {
  const space = `${KEY_PREFIX}${kid}:`;
  return {
    epoch: `${space}epoch`,
    changes: `${space}changes`,
    bindings: `${space}bindings`,
    statuses: `${space}statuses`,
    lookups: `${space}lookups`,
    digests: `${space}digests`,
    leaf: (path) => `${space}leaf:${path}`,
    lease: `${KEY_PREFIX}lease`,
    leaseToken: `${KEY_PREFIX}lease:token`,
    heartbeat: (nodeId) => `${KEY_PREFIX}hb:${nodeId}`,
    heartbeats: `${KEY_PREFIX}hb:*`,
  };
}
