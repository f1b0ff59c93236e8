/**
 * The vehicle list (types.ts has the contract and the data flow): what the hub builds, encodes and
 * signs, and what a vehicle verifies, decodes and looks card taps up in.
 */
export type * from './types.js';
export { bitsFor, ListKey, MAX_FINGERPRINT_BITS } from './list-key.js';
export { listValue, stricter, valueKey } from './entry-value.js';
export { buildState, lookup, StateBuilder, type ListEntry } from './state.js';
export { applyDelta, diff } from './delta.js';
export { stateDigest } from './digest.js';
export { advance, encodeDelta, encodeSnapshot, fileName, openFile, signFile, type DeltaMeta, type OpenedDelta, type OpenedFile, type OpenedSnapshot, type VersionMeta } from './list-file.js';
export { openHead, signHead } from './head.js';
export { ListRefused } from './refusal.js';
