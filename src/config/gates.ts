/**
 * The `gates` section: `gates.defaults` (a policy) and `gates.list` (each gate's id, group,
 * policy and serial devices). The one validator of gates: `serve`, `hes-gate devices` and
 * `config check` all get their gates from here, through `loadConfig`.
 *
 *   { "id": "N1", "group": "north", "policy": { "deadlineMs": 200 },
 *     "reader": { "path": "/dev/serial/by-id/usb-…", "profile": "honeywell-qr" },
 *     "controller": { "path": "/dev/ttyUSB1", "profile": "modbus-relay", "unit": 1, "openCoil": 0 } }
 *
 * Device profile names are checked against the profiles in `devicesDir` when given.
 */
import { HesGateError } from '../errors.js';
import type { Profiles } from './device-profiles.js';
import type { GatePolicy } from '../policy/types.js';
import { configInvalid, field, isObj, must, onlyKeys, own, type Fail, type Obj } from './checks.js';
import type { ControllerConfig, GateConfig, ReaderConfig } from './schema.js';
import { POLICY_CHECKS } from './settings.js';

const GATE_KEYS = ['id', 'group', 'policy', 'reader', 'readers', 'controller'] as const;
const GATE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const gateId = (v: unknown): string | null =>
  typeof v === 'string' && GATE_ID.test(v) ? null : 'a gate id of 1–64 letters, digits, ".", "_" or "-"';

/** A policy: `base` with the fields `raw` sets, each checked. */
export function policyFrom(raw: unknown, base: GatePolicy, keyPrefix: string, where: string): GatePolicy {
  if (raw === undefined) return base;
  if (!isObj(raw)) throw configInvalid(keyPrefix, 'an object of policy settings', raw, where);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(raw)) {
    const check = POLICY_CHECKS.get(k as keyof GatePolicy);
    if (check === undefined) {
      throw new HesGateError('HG_CONFIG_INVALID', `${keyPrefix}.${k} (${where}) is not a known gate policy setting`, { details: { key: `${keyPrefix}.${k}` } });
    }
    const problem = check(v);
    if (problem !== null) throw configInvalid(`${keyPrefix}.${k}`, problem, v, where);
    out[k] = v;
  }
  return out as unknown as GatePolicy;
}

/** Every gate of `gates.list`, validated (devices included) and cross-checked; throws the first HG_CONFIG_INVALID. */
export function gatesFrom(raw: unknown, defaults: GatePolicy, where: string, profiles: Profiles | null): GateConfig[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw configInvalid('gates.list', 'an array of gates', raw, where);
  const fail: Fail = (key, expected, got) => {
    throw configInvalid(key, expected, got, where);
  };
  const gates = raw.map((g: unknown, i: number) => gateFrom(g, `gates.list[${i}]`, defaults, where, fail, profiles));
  crossCheck(gates, fail);
  return gates;
}

function gateFrom(raw: unknown, path: string, defaults: GatePolicy, where: string, fail: Fail, profiles: Profiles | null): GateConfig {
  if (!isObj(raw)) fail(path, 'an object with at least "id"', raw);
  const g = raw as Obj;
  for (const k of Object.keys(g)) {
    if (!(GATE_KEYS as readonly string[]).includes(k)) {
      throw new HesGateError('HG_CONFIG_INVALID', `${path}.${k} (${where}) is not a known gate setting`, { details: { key: `${path}.${k}` } });
    }
  }
  const id = field<string>(fail, g, 'id', `${path}.id`, gateId);
  const group = field<string | undefined>(fail, g, 'group', `${path}.group`, (v) => (v === undefined ? null : must.str(v)));
  const reader = own(g, 'reader');
  const list = own(g, 'readers');
  if (reader !== undefined && list !== undefined) fail(`${path}.readers`, 'either "reader" or "readers", not both', list);
  if (list !== undefined && !Array.isArray(list)) fail(`${path}.readers`, 'an array of readers', list);
  const rawReaders: unknown[] = list !== undefined ? (list as unknown[]) : reader === undefined ? [] : [reader];
  const many = rawReaders.length > 1;
  const readers = rawReaders.map((r, i) => {
    const rPath = list !== undefined ? `${path}.readers[${i}]` : `${path}.reader`;
    return readerFrom(r, rPath, many ? `${id}/reader-${i + 1}` : `${id}/reader`, fail, profiles);
  });
  const controller = own(g, 'controller');
  return {
    id,
    group: group ?? id,
    policy: policyFrom(own(g, 'policy'), defaults, `${path}.policy`, where),
    readers,
    controller: controller === undefined || controller === null ? null : controllerFrom(controller, `${path}.controller`, fail, profiles),
  };
}

function readerFrom(raw: unknown, path: string, defaultId: string, fail: Fail, profiles: Profiles | null): ReaderConfig {
  if (!isObj(raw)) fail(path, 'a reader object {path, profile}', raw);
  onlyKeys(fail, raw, path, ['id', 'path', 'profile']);
  const profile = field<string>(fail, raw, 'profile', `${path}.profile`, must.str);
  if (profiles !== null && !profiles.readers.has(profile)) {
    fail(`${path}.profile`, `a reader profile in devices/ (${[...profiles.readers.keys()].join(', ')})`, profile);
  }
  return {
    id: field<string>(fail, raw, 'id', `${path}.id`, must.str, defaultId),
    path: field<string>(fail, raw, 'path', `${path}.path`, must.str),
    profile,
  };
}

function controllerFrom(raw: unknown, path: string, fail: Fail, profiles: Profiles | null): ControllerConfig {
  if (!isObj(raw)) fail(path, 'a controller object {path, profile}', raw);
  onlyKeys(fail, raw, path, ['path', 'profile', 'unit', 'openCoil', 'denyCoil', 'passage']);
  const controller: ControllerConfig = {
    path: field<string>(fail, raw, 'path', `${path}.path`, must.str),
    profile: field<string>(fail, raw, 'profile', `${path}.profile`, must.str),
  };
  const gateProfile = profiles?.gates.get(controller.profile);
  if (profiles !== null && gateProfile === undefined) {
    fail(`${path}.profile`, `a gate profile in devices/ (${[...profiles.gates.keys()].join(', ')})`, controller.profile);
  }
  for (const key of ['unit', 'openCoil', 'denyCoil'] as const) {
    if (own(raw, key) === undefined) continue;
    const v = field<number>(fail, raw, key, `${path}.${key}`, key === 'unit' ? must.int(1, 247) : must.int(0, 0xffff));
    if (gateProfile && gateProfile.protocol !== 'modbus-rtu') fail(`${path}.${key}`, `nothing: ${controller.profile} is not a Modbus profile`, v);
    controller[key] = v;
  }
  if (controller.denyCoil !== undefined && gateProfile?.protocol === 'modbus-rtu' && gateProfile.deny === null) {
    fail(`${path}.denyCoil`, `nothing: ${controller.profile} has no deny pulse (set "deny" in the profile)`, controller.denyCoil);
  }
  if (own(raw, 'passage') !== undefined) {
    const passage = field<string>(fail, raw, 'passage', `${path}.passage`, must.str);
    if (gateProfile && gateProfile.protocol !== 'text') fail(`${path}.passage`, `nothing: ${controller.profile} is not a text profile`, passage);
    controller.passage = passage;
  }
  return controller;
}

/** What no single gate can see: ids and ports used twice, a shared controller port with two profiles. */
function crossCheck(gates: GateConfig[], fail: Fail): void {
  const gateIds = new Set<string>();
  const readerIds = new Set<string>();
  const readerPorts = new Set<string>();
  const controllerPorts = new Map<string, string>();
  gates.forEach((gate, i) => {
    const path = `gates.list[${i}]`;
    if (gateIds.has(gate.id)) fail(`${path}.id`, 'unique among gates', gate.id);
    gateIds.add(gate.id);
    gate.readers.forEach((reader, r) => {
      const rPath = gate.readers.length > 1 ? `${path}.readers[${r}]` : `${path}.reader`;
      if (readerIds.has(reader.id)) fail(`${rPath}.id`, 'a reader id used once', reader.id);
      readerIds.add(reader.id);
      if (readerPorts.has(reader.path) || controllerPorts.has(reader.path)) fail(`${rPath}.path`, 'a port path used by one reader only (and by no controller)', reader.path);
      readerPorts.add(reader.path);
    });
    if (gate.controller !== null) {
      const { path: port, profile } = gate.controller;
      const other = controllerPorts.get(port);
      if (other !== undefined && other !== profile) fail(`${path}.controller.profile`, `${other}, like the other gates sharing ${port}`, profile);
      if (readerPorts.has(port)) fail(`${path}.controller.path`, 'a port that no reader uses', port);
      controllerPorts.set(port, profile);
    }
  });
}
