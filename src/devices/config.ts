/**
 * The `station.gates` section of the configuration: which gates this station drives, on which
 * serial ports, with which device profiles. The main config schema embeds it; this module
 * validates it (coded HG_CONFIG_INVALID errors naming the key) and returns it frozen.
 *
 *   { "id": "G1", "group": "north", "deadlineMs": 400,
 *     "reader": { "path": "/dev/serial/by-id/usb-…", "profile": "honeywell-qr" },
 *     "controller": { "path": "/dev/ttyUSB1", "profile": "modbus-relay", "unit": 1, "openCoil": 0 } }
 */
import { HesGateError } from '../errors.js';
import { describeValue, int, isObj, onlyKeys, optInt, optStr, str, type Fail, type Obj } from './check.js';
import type { Profiles } from './profiles.js';

export interface ReaderConfig {
  /** Unique across the station; defaults to `<gate>/reader` (or `<gate>/reader-<n>` for several). */
  id: string;
  /** Port path; prefer stable ones (`/dev/serial/by-id/…`), which survive re-plugging. */
  path: string;
  /** Reader profile name (file name in `devices/` without `.json`). */
  profile: string;
}

export interface ControllerConfig {
  /** Port path. Several gates may share one controller port (one RS-485 bus / relay board). */
  path: string;
  /** Gate profile name. */
  profile: string;
  /** Modbus unit id; overrides the profile's. */
  unit?: number;
  /** Modbus coil that opens this gate; overrides the profile's `open.coil`. */
  openCoil?: number;
  /** Modbus coil that shows a deny; overrides the profile's `deny.coil`. */
  denyCoil?: number;
  /** Text protocols: fills `{passage}` in commands (e.g. "A" or "B"). @default "A" */
  passage?: string;
}

export interface StationGateConfig {
  id: string;
  group: string;
  readers: ReaderConfig[];
  controller?: ControllerConfig;
  /** Time from a read to the gate command, in ms; a decision not ready by then is a deny. @default 400 */
  deadlineMs: number;
}

export const DEFAULT_DEADLINE_MS = 400;

/** Every problem in `value`, at most one per gate plus cross-gate ones; empty when valid. */
export function checkStationGates(value: unknown, profiles?: Profiles, path = 'station.gates'): HesGateError[] {
  const errors: HesGateError[] = [];
  if (!Array.isArray(value)) {
    return [configError(path, 'an array of gates', value)];
  }
  const gates: StationGateConfig[] = [];
  value.forEach((raw, i) => {
    try {
      gates.push(parseGate(raw, `${path}[${i}]`, profiles));
    } catch (err) {
      errors.push(err as HesGateError);
    }
  });
  if (errors.length === 0) errors.push(...crossCheck(gates, path));
  return errors;
}

/** Validate and freeze; throws the first HG_CONFIG_INVALID. */
export function parseStationGates(value: unknown, profiles?: Profiles, path = 'station.gates'): readonly StationGateConfig[] {
  const errors = checkStationGates(value, profiles, path);
  if (errors.length > 0) throw errors[0];
  const gates = (value as unknown[]).map((raw, i) => parseGate(raw, `${path}[${i}]`, profiles));
  for (const gate of gates) {
    for (const reader of gate.readers) Object.freeze(reader);
    if (gate.controller) Object.freeze(gate.controller);
    Object.freeze(gate.readers);
    Object.freeze(gate);
  }
  return Object.freeze(gates);
}

function configError(key: string, expected: string, got: unknown): HesGateError {
  return new HesGateError('HG_CONFIG_INVALID', `${key} is ${describeValue(got)}; expected ${expected}`, { details: { key, expected } });
}

const fail: Fail = (key, expected, got) => {
  throw configError(key, expected, got);
};

function parseGate(raw: unknown, path: string, profiles?: Profiles): StationGateConfig {
  if (!isObj(raw)) fail(path, 'a gate object', raw);
  const g = raw as Obj;
  onlyKeys(fail, g, path, ['id', 'group', 'reader', 'readers', 'controller', 'deadlineMs']);
  const id = str(fail, g, 'id', `${path}.id`);
  const group = str(fail, g, 'group', `${path}.group`, { default: 'default' });
  if (g.reader !== undefined && g.readers !== undefined) fail(`${path}.readers`, 'either "reader" or "readers", not both', g.readers);
  let rawReaders: unknown[];
  if (g.readers !== undefined) {
    if (!Array.isArray(g.readers)) fail(`${path}.readers`, 'an array of readers', g.readers);
    rawReaders = g.readers as unknown[];
  } else {
    rawReaders = g.reader === undefined ? [] : [g.reader];
  }
  const many = rawReaders.length > 1;
  const readers = rawReaders.map((r, i) => {
    const rPath = g.readers !== undefined ? `${path}.readers[${i}]` : `${path}.reader`;
    if (!isObj(r)) fail(rPath, 'a reader object {path, profile}', r);
    onlyKeys(fail, r, rPath, ['id', 'path', 'profile']);
    const profile = str(fail, r, 'profile', `${rPath}.profile`);
    if (profiles && !profiles.readers.has(profile)) {
      fail(`${rPath}.profile`, `a reader profile in devices/ (${[...profiles.readers.keys()].join(', ')})`, profile);
    }
    return {
      id: optStr(fail, r, 'id', `${rPath}.id`) ?? (many ? `${id}/reader-${i + 1}` : `${id}/reader`),
      path: str(fail, r, 'path', `${rPath}.path`),
      profile,
    };
  });
  const gate: StationGateConfig = {
    id,
    group,
    readers,
    deadlineMs: int(fail, g, 'deadlineMs', `${path}.deadlineMs`, { min: 10, max: 10_000, default: DEFAULT_DEADLINE_MS }),
  };
  if (g.controller !== undefined) gate.controller = parseController(g.controller, `${path}.controller`, profiles);
  return gate;
}

function parseController(raw: unknown, path: string, profiles?: Profiles): ControllerConfig {
  if (!isObj(raw)) fail(path, 'a controller object {path, profile}', raw);
  onlyKeys(fail, raw, path, ['path', 'profile', 'unit', 'openCoil', 'denyCoil', 'passage']);
  const controller: ControllerConfig = { path: str(fail, raw, 'path', `${path}.path`), profile: str(fail, raw, 'profile', `${path}.profile`) };
  const gateProfile = profiles?.gates.get(controller.profile);
  if (profiles && !gateProfile) {
    fail(`${path}.profile`, `a gate profile in devices/ (${[...profiles.gates.keys()].join(', ')})`, controller.profile);
  }
  const modbusKeys = ['unit', 'openCoil', 'denyCoil'] as const;
  for (const key of modbusKeys) {
    const v = optInt(fail, raw, key, `${path}.${key}`, key === 'unit' ? { min: 1, max: 247 } : { max: 0xffff });
    if (v === undefined) continue;
    if (gateProfile && gateProfile.protocol !== 'modbus-rtu') fail(`${path}.${key}`, `nothing: ${controller.profile} is not a Modbus profile`, v);
    controller[key] = v;
  }
  if (controller.denyCoil !== undefined && gateProfile?.protocol === 'modbus-rtu' && gateProfile.deny === null) {
    fail(`${path}.denyCoil`, `nothing: ${controller.profile} has no deny pulse (set "deny" in the profile)`, controller.denyCoil);
  }
  const passage = optStr(fail, raw, 'passage', `${path}.passage`);
  if (passage !== undefined) {
    if (gateProfile && gateProfile.protocol !== 'text') fail(`${path}.passage`, `nothing: ${controller.profile} is not a text profile`, passage);
    controller.passage = passage;
  }
  return controller;
}

function crossCheck(gates: StationGateConfig[], path: string): HesGateError[] {
  const errors: HesGateError[] = [];
  const gateIds = new Set<string>();
  const readerIds = new Set<string>();
  const readerPaths = new Map<string, string>();
  const controllerPaths = new Map<string, string>();
  gates.forEach((gate, i) => {
    if (gateIds.has(gate.id)) errors.push(configError(`${path}[${i}].id`, 'a gate id not used by another gate', gate.id));
    gateIds.add(gate.id);
    for (const reader of gate.readers) {
      if (readerIds.has(reader.id)) errors.push(configError(`${path}[${i}] reader id`, 'a reader id used once', reader.id));
      readerIds.add(reader.id);
      if (readerPaths.has(reader.path)) errors.push(configError(`${path}[${i}] reader path`, 'a port path used by one reader only', reader.path));
      readerPaths.set(reader.path, reader.id);
    }
    if (gate.controller) {
      const { path: port, profile } = gate.controller;
      const other = controllerPaths.get(port);
      if (other !== undefined && other !== profile) {
        errors.push(configError(`${path}[${i}].controller.profile`, `${other}, like the other gates sharing ${port}`, profile));
      }
      controllerPaths.set(port, profile);
      if (readerPaths.has(port)) errors.push(configError(`${path}[${i}].controller.path`, 'a port that no reader uses', port));
    }
  });
  for (const [port] of readerPaths) {
    if (controllerPaths.has(port)) errors.push(configError(`${path} reader path`, 'a port that no controller uses', port));
  }
  return dedupe(errors);
}

function dedupe(errors: HesGateError[]): HesGateError[] {
  const seen = new Set<string>();
  return errors.filter((e) => (seen.has(e.message) ? false : (seen.add(e.message), true)));
}
