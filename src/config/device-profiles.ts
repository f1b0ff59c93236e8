/**
 * Device profiles: data, not code. One JSON file per device model in `devices/`; the file name
 * (without `.json`) is the profile name that station configuration refers to. Every file is
 * validated at start; a bad one stops start-up with HG_PROFILE_INVALID naming the file, the key
 * and what was expected. docs/devices.md documents every key.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HesGateError } from '../errors.js';
import { describeValue, int, isObj, obj, oneOf, onlyKeys, optInt, optObj, str, type Fail, type Obj } from './checks.js';
import type { CardIdRules } from '../credentials/card-id.js';

/** Line settings of a profile (8N1 is `{dataBits: 8, parity: 'none', stopBits: 1}`). */
export interface LineSettings {
  /** Bits per second. Not enforced on pseudo-terminals. */
  baudRate: number;
  /** @default 8 */
  dataBits: 5 | 6 | 7 | 8;
  /** @default 'none' */
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  /** @default 1 */
  stopBits: 1 | 1.5 | 2;
}

/** How bytes on the line become frames. */
export type FramingSpec =
  | {
      type: 'delimiter';
      /** Bytes ending a frame, e.g. "\r\n". */
      delimiter: string;
      /** Longest frame in bytes, delimiter excluded. */
      maxLength: number;
      /** Drop an unfinished frame after this many ms without bytes. */
      staleMs?: number;
    }
  | { type: 'silence'; silenceMs: number; maxLength: number }
  | {
      type: 'start-end';
      /** Start byte (0–255), e.g. 2 (STX). */
      start: number;
      /** End byte (0–255), e.g. 3 (ETX). */
      end: number;
      checksum: 'none' | 'xor-hex';
      /** Longest payload between the markers, checksum included. */
      maxLength: number;
      staleMs?: number;
    };

/** How a card reader's text becomes the canonical id: the rules of credentials/card-id.ts. */
export type CardDecoding = CardIdRules;

export interface QrDecoding {
  /** Whether the scanner sends an AIM symbology identifier (`]Q1`): stripped when present. */
  aimPrefix: 'none' | 'optional' | 'required';
  /** AIM code letters accepted when a prefix is present (`Q` = QR Code, `d` = Data Matrix). */
  symbologies: string[];
  /** Payload length bounds after stripping the prefix, in characters. */
  minLength: number;
  maxLength: number;
}

interface ReaderBase {
  kind: 'reader';
  name: string;
  file: string;
  description: string;
  line: LineSettings;
  framing: FramingSpec;
  /** A repeat of the same value from the same reader within this many ms of the last read is ignored. */
  repeatWindowMs: number;
}
export type ReaderProfile = (ReaderBase & { credential: 'card'; card: CardDecoding }) | (ReaderBase & { credential: 'qr'; qr: QrDecoding });

/** Feedback lines a text controller sends (`PASS A`, `ALARM`), mapped to event names. */
export interface TextFeedback {
  delimiter: string;
  maxLength: number;
  lines: Record<string, string>;
}

interface GateBase {
  kind: 'gate';
  name: string;
  file: string;
  description: string;
  line: LineSettings;
}
/** A controller speaking lines of text. `{passage}` and `{reason}` in commands are filled in. */
export interface TextGateProfile extends GateBase {
  protocol: 'text';
  open: { text: string };
  /** `null`: a deny is not shown on this gate. */
  deny: { text: string } | null;
  feedback: TextFeedback | null;
}
/** A Modbus RTU relay board: a command is a coil pulse (FC05 on, then off after `pulseMs`). */
export interface ModbusGateProfile extends GateBase {
  protocol: 'modbus-rtu';
  /** Modbus unit (slave) id, overridable per gate. */
  unit: number;
  /** How long to wait for the board's echo, in ms. */
  responseTimeoutMs: number;
  open: { coil: number; pulseMs: number };
  deny: { coil: number; pulseMs: number } | null;
}
export type GateProfile = TextGateProfile | ModbusGateProfile;

export interface Profiles {
  readers: Map<string, ReaderProfile>;
  gates: Map<string, GateProfile>;
}

/** Read and validate every `*.json` in `dir`. Throws HG_PROFILE_INVALID on the first bad file. */
export function loadProfiles(dir = 'devices'): Profiles {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    throw new HesGateError('HG_PROFILE_INVALID', `device profile folder ${dir} cannot be read`, { cause: err, details: { file: dir } });
  }
  const profiles: Profiles = { readers: new Map(), gates: new Map() };
  for (const name of names) {
    const file = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new HesGateError('HG_PROFILE_INVALID', `${file}: not readable JSON (${(err as Error).message})`, { cause: err, details: { file } });
    }
    const profile = parseProfile(file, raw);
    if (profile.kind === 'reader') profiles.readers.set(profile.name, profile);
    else profiles.gates.set(profile.name, profile);
  }
  return profiles;
}

/** Validate one parsed profile; its name is the file name without `.json`. */
export function parseProfile(file: string, raw: unknown): ReaderProfile | GateProfile {
  const fail: Fail = (key, expected, got) => {
    throw new HesGateError('HG_PROFILE_INVALID', `${file}: "${key}" is ${describeValue(got)}; expected ${expected}`, {
      details: { file, key, expected },
    });
  };
  if (!isObj(raw)) fail('(root)', 'an object', raw);
  const root = raw as Obj;
  const name = basename(file).replace(/\.json$/, '');
  const kind = oneOf(fail, root, 'kind', 'kind', ['reader', 'gate'] as const);
  const description = typeof root.description === 'string' ? root.description : '';
  const line = parseLine(fail, root);
  if (kind === 'reader') {
    onlyKeys(fail, root, '', ['kind', 'description', 'credential', 'line', 'framing', 'card', 'qr', 'repeatWindowMs']);
    const base: ReaderBase = {
      kind, name, file, description, line,
      framing: parseFraming(fail, obj(fail, root, 'framing', 'framing'), 'framing'),
      repeatWindowMs: int(fail, root, 'repeatWindowMs', 'repeatWindowMs', { max: 600_000, default: 0 }),
    };
    const credential = oneOf(fail, root, 'credential', 'credential', ['card', 'qr'] as const);
    if (credential === 'card') return { ...base, credential, card: parseCard(fail, obj(fail, root, 'card', 'card')) };
    return { ...base, credential, qr: parseQr(fail, obj(fail, root, 'qr', 'qr')) };
  }
  const protocol = oneOf(fail, root, 'protocol', 'protocol', ['text', 'modbus-rtu'] as const);
  if (protocol === 'text') {
    onlyKeys(fail, root, '', ['kind', 'description', 'protocol', 'line', 'open', 'deny', 'feedback']);
    const open = obj(fail, root, 'open', 'open');
    const deny = optObj(fail, root, 'deny', 'deny');
    const feedback = optObj(fail, root, 'feedback', 'feedback');
    return {
      kind, name, file, description, line, protocol,
      open: { text: str(fail, open, 'text', 'open.text') },
      deny: deny ? { text: str(fail, deny, 'text', 'deny.text') } : null,
      feedback: feedback ? parseFeedback(fail, feedback) : null,
    };
  }
  onlyKeys(fail, root, '', ['kind', 'description', 'protocol', 'line', 'unit', 'responseTimeoutMs', 'open', 'deny']);
  const pulse = (o: Obj, path: string) => ({
    coil: int(fail, o, 'coil', `${path}.coil`, { max: 0xffff }),
    pulseMs: int(fail, o, 'pulseMs', `${path}.pulseMs`, { min: 10, max: 60_000 }),
  });
  const deny = optObj(fail, root, 'deny', 'deny');
  return {
    kind, name, file, description, line, protocol,
    unit: int(fail, root, 'unit', 'unit', { min: 1, max: 247, default: 1 }),
    responseTimeoutMs: int(fail, root, 'responseTimeoutMs', 'responseTimeoutMs', { min: 10, max: 10_000, default: 200 }),
    open: pulse(obj(fail, root, 'open', 'open'), 'open'),
    deny: deny ? pulse(deny, 'deny') : null,
  };
}

function parseLine(fail: Fail, root: Obj): LineSettings {
  const line = obj(fail, root, 'line', 'line');
  onlyKeys(fail, line, 'line', ['baudRate', 'dataBits', 'parity', 'stopBits']);
  return {
    baudRate: int(fail, line, 'baudRate', 'line.baudRate', { min: 110, max: 4_000_000 }),
    dataBits: oneOf(fail, line, 'dataBits', 'line.dataBits', [5, 6, 7, 8] as const, 8),
    parity: oneOf(fail, line, 'parity', 'line.parity', ['none', 'even', 'odd', 'mark', 'space'] as const, 'none'),
    stopBits: oneOf(fail, line, 'stopBits', 'line.stopBits', [1, 1.5, 2] as const, 1),
  };
}

export function parseFraming(fail: Fail, f: Obj, path: string): FramingSpec {
  const type = oneOf(fail, f, 'type', `${path}.type`, ['delimiter', 'silence', 'start-end'] as const);
  const maxLength = int(fail, f, 'maxLength', `${path}.maxLength`, { min: 1, max: 65_536 });
  const staleMs = optInt(fail, f, 'staleMs', `${path}.staleMs`, { min: 1, max: 60_000 });
  if (type === 'delimiter') {
    onlyKeys(fail, f, path, ['type', 'delimiter', 'maxLength', 'staleMs']);
    const delimiter = str(fail, f, 'delimiter', `${path}.delimiter`);
    return staleMs === undefined ? { type, delimiter, maxLength } : { type, delimiter, maxLength, staleMs };
  }
  if (type === 'silence') {
    onlyKeys(fail, f, path, ['type', 'silenceMs', 'maxLength']);
    return { type, maxLength, silenceMs: int(fail, f, 'silenceMs', `${path}.silenceMs`, { min: 1, max: 10_000 }) };
  }
  onlyKeys(fail, f, path, ['type', 'start', 'end', 'checksum', 'maxLength', 'staleMs']);
  const start = int(fail, f, 'start', `${path}.start`, { max: 255 });
  const end = int(fail, f, 'end', `${path}.end`, { max: 255 });
  if (start === end) fail(`${path}.end`, 'a byte different from start', end);
  const checksum = oneOf(fail, f, 'checksum', `${path}.checksum`, ['none', 'xor-hex'] as const, 'none');
  const spec: FramingSpec = { type, start, end, checksum, maxLength };
  if (staleMs !== undefined) spec.staleMs = staleMs;
  return spec;
}

function parseCard(fail: Fail, c: Obj): CardDecoding {
  onlyKeys(fail, c, 'card', ['encoding', 'byteOrder', 'digits', 'padToBytes', 'lengths']);
  const lengths = c.lengths;
  if (!Array.isArray(lengths) || lengths.length === 0 || !lengths.every((n) => Number.isInteger(n) && n >= 1 && n <= 20)) {
    fail('card.lengths', 'a non-empty array of byte counts from 1 to 20', lengths);
  }
  const card: CardDecoding = {
    encoding: oneOf(fail, c, 'encoding', 'card.encoding', ['hex', 'decimal'] as const),
    byteOrder: oneOf(fail, c, 'byteOrder', 'card.byteOrder', ['msb-first', 'lsb-first'] as const, 'msb-first'),
    lengths: [...(lengths as number[])],
  };
  const digits = optInt(fail, c, 'digits', 'card.digits', { min: 1, max: 40 });
  if (digits !== undefined) card.digits = digits;
  const pad = optInt(fail, c, 'padToBytes', 'card.padToBytes', { min: 1, max: 20 });
  if (pad !== undefined) card.padToBytes = pad;
  if (card.encoding === 'decimal' && card.byteOrder === 'lsb-first' && pad === undefined) {
    fail('card.padToBytes', 'a byte count (a decimal id read lsb-first needs a fixed width to reverse)', pad);
  }
  return card;
}

function parseQr(fail: Fail, q: Obj): QrDecoding {
  onlyKeys(fail, q, 'qr', ['aimPrefix', 'symbologies', 'minLength', 'maxLength']);
  const symbologies = q.symbologies ?? ['Q'];
  if (!Array.isArray(symbologies) || symbologies.length === 0 || !symbologies.every((s) => typeof s === 'string' && /^[A-Za-z]$/.test(s))) {
    fail('qr.symbologies', 'a non-empty array of AIM code letters, e.g. ["Q"]', symbologies);
  }
  const minLength = int(fail, q, 'minLength', 'qr.minLength', { min: 1, max: 4096, default: 1 });
  const maxLength = int(fail, q, 'maxLength', 'qr.maxLength', { min: minLength, max: 4096, default: 1024 });
  return {
    aimPrefix: oneOf(fail, q, 'aimPrefix', 'qr.aimPrefix', ['none', 'optional', 'required'] as const, 'optional'),
    symbologies: [...(symbologies as string[])],
    minLength,
    maxLength,
  };
}

function parseFeedback(fail: Fail, f: Obj): TextFeedback {
  onlyKeys(fail, f, 'feedback', ['delimiter', 'maxLength', 'lines']);
  const lines = obj(fail, f, 'lines', 'feedback.lines');
  for (const [line, event] of Object.entries(lines)) {
    if (typeof event !== 'string' || event.length === 0) fail(`feedback.lines.${line}`, 'an event name (string)', event);
  }
  return {
    delimiter: str(fail, f, 'delimiter', 'feedback.delimiter'),
    maxLength: int(fail, f, 'maxLength', 'feedback.maxLength', { min: 1, max: 4096, default: 128 }),
    lines: { ...(lines as Record<string, string>) },
  };
}
