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
 *   hg:<kid>:lookups    stream  ministry answers (typed and QR codes) the lease holder relays to every node (MAXLEN ~ city.lookupsMaxLen)
 *   hg:<kid>:lookups:<node id>  stream  one node's own answers, signed by it: the only stream a station may write
 *   hg:<kid>:relay      hash    node id → the last id of its lookup stream the lease holder relayed
 *   hg:nodes            hash    node id → its role and Ed25519 public key, revoked or not (identity/node-registry.ts)
 *   hg:nodes:version    counter incremented on every change of hg:nodes: nodes reload it when it moves
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
  /** One node's own lookup stream (written only by it: its ACL user's only stream). */
  lookupsOf(nodeId: string): string;
  relay: string;
  nodes: string;
  nodesVersion: string;
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
    lookupsOf: (nodeId) => `${space}lookups:${nodeId}`,
    relay: `${space}relay`,
    nodes: `${KEY_PREFIX}nodes`,
    nodesVersion: `${KEY_PREFIX}nodes:version`,
    lease: `${KEY_PREFIX}lease`,
    leaseToken: `${KEY_PREFIX}lease:token`,
    heartbeat: (nodeId) => `${KEY_PREFIX}hb:${nodeId}`,
    heartbeats: `${KEY_PREFIX}hb:*`,
  };
}
