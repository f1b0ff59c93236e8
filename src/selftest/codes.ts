/**
 * Which sample codes the self-test asks about: the simulator's own set by default (when the
 * run starts the embedded simulator), overridden by a `--codes FILE` JSON file, overridden by
 * single options. Every code is normalised here and never shown unmasked afterwards.
 */
import { readFileSync } from 'node:fs';
import { normalizeHesCode } from '../credentials/hes-code.js';
import { HesGateError } from '../errors.js';
import type { SampleCode } from '../simulator/sample-codes.js';
import type { VisitorDetails } from '../ministry/types.js';
import type { SelftestCodes } from './types.js';

/** The command-line options that name codes (all optional). */
export interface CodeOptions {
  riskless?: string;
  risky?: string;
  notFound?: string;
  expired?: string;
  employee?: string;
  visitor?: string;
  visitorCity?: string;
  visitorDistrict?: string;
  visitorAddress?: string;
  /** `LAT,LON` in decimal degrees. */
  visitorLocation?: string;
  /** JSON file: `{"riskless","risky","notFound","expired","employee","visitor":{"code","city","district","explicitAddress","location"}}`. */
  codes?: string;
}

type CodeLayer = Partial<Omit<SelftestCodes, 'visitor'>> & { visitor?: Partial<NonNullable<SelftestCodes['visitor']>> };

const CODE_KEYS = ['riskless', 'risky', 'notFound', 'expired', 'employee'] as const;
const FILE_KEYS = new Set<string>([...CODE_KEYS, 'visitor']);
const VISITOR_KEYS = new Set(['code', 'city', 'district', 'explicitAddress', 'location']);
const DAY_MS = 86_400_000;

function code(value: unknown, where: string): string {
  const normal = typeof value === 'string' ? normalizeHesCode(value) : null;
  // The value itself is not repeated: it may be a real person's code.
  if (normal === null) throw new HesGateError('HG_CONFIG_INVALID', `${where} must be a HES code (10 letters or digits, dashes allowed)`, { details: { key: where } });
  return normal;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new HesGateError('HG_CONFIG_INVALID', `${where} must be a non-empty string`, { details: { key: where } });
  return value.trim();
}

function location(value: unknown, where: string): VisitorDetails['location'] {
  const expected = `${where} must be a latitude and longitude (LAT,LON or {"latitude","longitude"})`;
  let lat: unknown;
  let lon: unknown;
  if (typeof value === 'string') [lat, lon] = value.split(',').map((s) => Number(s.trim()));
  else if (typeof value === 'object' && value !== null) ({ latitude: lat, longitude: lon } = value as Record<string, unknown>);
  if (typeof lat !== 'number' || typeof lon !== 'number' || !(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180)) {
    throw new HesGateError('HG_CONFIG_INVALID', expected, { details: { key: where } });
  }
  return { latitude: lat, longitude: lon };
}

function fromFile(path: string): CodeLayer {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new HesGateError('HG_CONFIG_FILE', `codes file ${path} could not be read as JSON: ${(err as NodeJS.ErrnoException).code ?? 'not JSON'}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new HesGateError('HG_CONFIG_INVALID', `codes file ${path} must hold a JSON object like {"riskless": "…", "risky": "…"}`);
  }
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!FILE_KEYS.has(k)) throw new HesGateError('HG_CONFIG_INVALID', `codes file ${path}: ${k} is not a known key (expected ${[...FILE_KEYS].join(', ')})`, { details: { key: k } });
  }
  const out: CodeLayer = {};
  for (const k of CODE_KEYS) if (obj[k] !== undefined) out[k] = code(obj[k], `codes file ${k}`);
  const v = obj['visitor'];
  if (v !== undefined) {
    if (typeof v !== 'object' || v === null) throw new HesGateError('HG_CONFIG_INVALID', `codes file visitor must be an object`, { details: { key: 'visitor' } });
    const vo = v as Record<string, unknown>;
    for (const k of Object.keys(vo)) {
      if (!VISITOR_KEYS.has(k)) throw new HesGateError('HG_CONFIG_INVALID', `codes file visitor.${k} is not a known key (expected ${[...VISITOR_KEYS].join(', ')})`, { details: { key: `visitor.${k}` } });
    }
    out.visitor = {};
    if (vo['code'] !== undefined) out.visitor.code = code(vo['code'], 'codes file visitor.code');
    if (vo['city'] !== undefined) out.visitor.city = text(vo['city'], 'codes file visitor.city');
    if (vo['district'] !== undefined) out.visitor.district = text(vo['district'], 'codes file visitor.district');
    if (vo['explicitAddress'] !== undefined) out.visitor.explicitAddress = text(vo['explicitAddress'], 'codes file visitor.explicitAddress');
    if (vo['location'] !== undefined) out.visitor.location = location(vo['location'], 'codes file visitor.location');
  }
  return out;
}

function fromOptions(o: CodeOptions): CodeLayer {
  const out: CodeLayer = {};
  const flags = { riskless: '--riskless', risky: '--risky', notFound: '--not-found', expired: '--expired', employee: '--employee' } as const;
  for (const k of CODE_KEYS) if (o[k] !== undefined) out[k] = code(o[k], flags[k]);
  const visitor: Partial<NonNullable<SelftestCodes['visitor']>> = {};
  if (o.visitor !== undefined) visitor.code = code(o.visitor, '--visitor');
  if (o.visitorCity !== undefined) visitor.city = text(o.visitorCity, '--visitor-city');
  if (o.visitorDistrict !== undefined) visitor.district = text(o.visitorDistrict, '--visitor-district');
  if (o.visitorAddress !== undefined) visitor.explicitAddress = text(o.visitorAddress, '--visitor-address');
  if (o.visitorLocation !== undefined) visitor.location = location(o.visitorLocation, '--visitor-location');
  if (Object.keys(visitor).length > 0) out.visitor = visitor;
  return out;
}

/** The simulator's codes for each check, picked from its set by what they answer. */
export function simulatorDefaults(samples: readonly SampleCode[], now: number): CodeLayer {
  const validFor = (s: SampleCode): boolean => s.expirationDate === undefined || Date.parse(s.expirationDate) > now + DAY_MS;
  const riskless = samples.find((s) => s.errorKey === undefined && s.status === 'RISKLESS' && validFor(s))?.code;
  const out: CodeLayer = {
    riskless,
    risky: samples.find((s) => s.errorKey === undefined && s.status === 'RISKY')?.code,
    notFound: samples.find((s) => s.errorKey === 'hescodenotfound')?.code,
    expired: samples.find((s) => s.errorKey === 'hescodehasbeenexpired')?.code,
    employee: riskless,
  };
  if (riskless !== undefined) {
    out.visitor = { code: riskless, city: 'Ankara', district: 'Çankaya', explicitAddress: 'Prova durağı, simülatör', location: { latitude: 39.92, longitude: 32.85 } };
  }
  return out;
}

/**
 * Layers defaults ← file ← options into the run's codes. Throws HG_CONFIG_INVALID naming the
 * option when a code is malformed, no riskless code is known, or visitor details are partial.
 */
export function resolveCodes(options: CodeOptions, defaults: CodeLayer = {}): SelftestCodes {
  const file = options.codes === undefined ? {} : fromFile(options.codes);
  const given = fromOptions(options);
  const merged: CodeLayer = { ...defaults, ...file, ...given };
  for (const k of CODE_KEYS) if (merged[k] === undefined) delete merged[k];
  const visitor = defaults.visitor !== undefined || file.visitor !== undefined || given.visitor !== undefined
    ? { ...defaults.visitor, ...file.visitor, ...given.visitor }
    : undefined;
  if (merged.riskless === undefined) {
    throw new HesGateError('HG_CONFIG_INVALID', 'selftest needs at least --riskless CODE (or "riskless" in --codes FILE): a code the ministry environment answers RISKLESS', { details: { key: '--riskless' } });
  }
  const out: SelftestCodes = { ...(merged as SelftestCodes) };
  delete out.visitor;
  if (visitor !== undefined) {
    const { city, district, explicitAddress } = visitor;
    if (city === undefined || district === undefined || explicitAddress === undefined) {
      throw new HesGateError('HG_CONFIG_INVALID', 'the visitor check needs --visitor-city, --visitor-district and --visitor-address (or the same in --codes FILE)', { details: { key: '--visitor' } });
    }
    out.visitor = { ...visitor, code: visitor.code ?? out.riskless, city, district, explicitAddress };
  }
  return out;
}
