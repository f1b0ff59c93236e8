/**
 * The log's event vocabulary: every line an operator's pipeline should match on carries an
 * `event` field with one of these values (docs/operations.md, "Logs", describes each). Other
 * lines are free text for people. A new event is added here and in the docs, or not at all: a
 * test collects the events of a standalone run's log and checks each is here, and checks that
 * each event here is documented (events a standalone station never logs, such as the city
 * tier's, are in this list all the same).
 */
export const LOG_EVENTS = [
  'start',
  'ready',
  'stop',
  'ministry.state',
  'circuit.state',
  'device.state',
  'config.problem',
  'journal.error',
  'refresher.backoff',
  'refresher.rotation',
  'request',
  // The city tier (docs/city.md): every node's replica, and a hub's lease and rotation.
  'city.start',
  'city.live',
  'city.degraded',
  'city.no-epoch',
  'city.snapshot',
  'city.snapshot.done',
  'city.epoch',
  'city.lease.acquired',
  'city.lease.lost',
  'city.lease.released',
  'city.fenced',
  'city.rotation',
  // Durability and reconciliation (city/hub, city/reconcile), node identities (city/identity).
  'city.restored',
  'city.stream-reset',
  'city.divergence',
  'city.repaired',
  'city.reconcile.failed',
  'city.nodes.restored',
  'city.nodes.record',
  'city.node.registered',
  'city.node.register',
  // A hub publishing the vehicle list (vehicles/hub).
  'vehicles.restored',
  'vehicles.lead',
  'vehicles.standby',
  'vehicles.published',
  'vehicles.unchanged',
  'vehicles.build.failed',
  'vehicles.skipped',
  'vehicles.prune',
  'vehicles.pruned',
  'vehicles.notice.broker',
  'vehicles.notice',
  'vehicles.registry.failed',
  // On board a vehicle (vehicles/vehicle): its list and its uploads.
  'vehicle.list.version',
  'vehicle.list.refused',
  'vehicle.list.none',
  'vehicle.link',
  'vehicle.notice.broker',
  'vehicle.notice.subscribe',
  'vehicle.upload.off',
  'vehicle.upload.restart',
] as const;

export type LogEvent = (typeof LOG_EVENTS)[number];
