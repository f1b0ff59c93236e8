/**
 * The log's event vocabulary: every line an operator's pipeline should match on carries an
 * `event` field with one of these values (docs/operations.md, "Logs", describes each). Other
 * lines are free text for people. A new event is added here and in the docs, or not at all.
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
] as const;

export type LogEvent = (typeof LOG_EVENTS)[number];
