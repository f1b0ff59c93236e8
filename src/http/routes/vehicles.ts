/**
 * What a hub serves its vehicles (docs/vehicles.md), each with the vehicle's own bearer token:
 *
 *   GET  /v1/vehicle-list/head[?after=V] the signed head: the newest version and the files that reach it (from V)
 *   GET  /v1/vehicle-list/files/:name   an immutable list file (Range: a cut download resumes)
 *   POST /v1/vehicles/reports           store and forward: journal records and counters from the vehicle
 *
 * A token the registry does not hold is 401 HG_UNAUTHORIZED; a revoked one 403 HG_VEHICLE_REVOKED,
 * so a revoked vehicle learns no new file names and its list ages into its outage policy. The
 * registry is held in memory (vehicles/hub/vehicle-registry.ts): no request reads SQLite.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HesGateError } from '../../errors.js';
import { bearerToken } from '../auth.js';
import type { VehicleRecord } from '../../cards/vehicle-tables.js';
import type { VehicleServing } from '../../vehicles/hub/types.js';
import { UPLOAD_BODY_LIMIT, UPLOAD_SHAPE, uploadSchema, type UploadBody } from '../../vehicles/hub/upload.js';

export interface VehicleRoutesOptions extends VehicleServing {
  /** Told after every accepted upload. */
  onUpload?: (vehicle: string, body: UploadBody, journaled: number) => void;
}

const FILE_NAME = /^[0-9a-f]{64}\.hgvl$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';

declare module 'fastify' {
  interface FastifyRequest {
    vehicle?: VehicleRecord;
  }
}

/** A single `bytes=` range of a file of `size` bytes: [start, end] inclusive, 'unsatisfiable', or null to send it whole. */
export function byteRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or another unit: the whole file is a valid answer (RFC 9110 §14.2).
  if (m === null || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}

/** How a validation failure is said: schema names only (a counter's name is the sender's text). */
function uploadProblem(err: { validation?: Array<{ instancePath: string; message?: string }> }): string {
  const first = err.validation?.[0];
  const path = (first?.instancePath ?? '').replace(/^\/counters\/.*/, '/counters/<name>').slice(1).replace(/\//g, '.');
  return `${path === '' ? 'the body' : `"${path}"`} ${first?.message ?? 'is invalid'}; expected ${UPLOAD_SHAPE}`;
}

export async function vehicleRoutes(app: FastifyInstance, opts: VehicleRoutesOptions): Promise<void> {
  const { registry } = opts;
  app.decorateRequest('vehicle', undefined);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = registry.authenticate(bearerToken(req));
    if (auth.outcome === 'unknown') {
      void reply.header('www-authenticate', 'Bearer realm="hes-gate vehicles"');
      throw new HesGateError('HG_UNAUTHORIZED', 'a registered vehicle\'s bearer token is required (hes-gate vehicle add)');
    }
    if (auth.outcome === 'revoked') throw new HesGateError('HG_VEHICLE_REVOKED', 'this vehicle\'s token was revoked at the hub');
    req.vehicle = auth.vehicle;
  });

  app.get('/v1/vehicle-list/head', async (req, reply) => {
    // `?after=V`: the vehicle holds version V and needs only what leads on from it.
    const after = (req.query as { after?: unknown }).after;
    if (after !== undefined && (typeof after !== 'string' || !/^\d{1,15}$/.test(after))) {
      throw new HesGateError('HG_BAD_REQUEST', '"after" is the list version the vehicle holds: 1 to 15 digits');
    }
    const head = after === undefined ? opts.head() : opts.headFor(Number(after));
    if (head === null) throw new HesGateError('HG_NOT_READY', 'no vehicle list has been published yet (only the hub holding the refresher lease publishes)');
    return reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(head);
  });

  app.get('/v1/vehicle-list/files/:name', async (req, reply) => {
    const name = (req.params as { name?: string }).name ?? '';
    if (!FILE_NAME.test(name)) throw new HesGateError('HG_BAD_REQUEST', 'a list file name is 64 lower-case hex digits and ".hgvl"');
    const file = join(opts.publishDir, name);
    let size: number;
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new Error('not a file');
      size = s.size;
    } catch {
      throw new HesGateError('HG_NOT_FOUND', 'no such list file (an older one may have been pruned: fetch the head again)');
    }
    void reply
      .header('content-type', 'application/octet-stream')
      .header('cache-control', IMMUTABLE)
      .header('etag', `"${name.slice(0, 64)}"`)
      .header('accept-ranges', 'bytes');
    const range = byteRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      void reply.header('content-range', `bytes */${size}`);
      throw new HesGateError('HG_RANGE_NOT_SATISFIABLE', `the range is outside the file (${size} bytes): fetch it from the start`);
    }
    if (range === null) return reply.header('content-length', size).send(createReadStream(file));
    const [start, end] = range;
    return reply
      .code(206)
      .header('content-range', `bytes ${start}-${end}/${size}`)
      .header('content-length', end - start + 1)
      .send(createReadStream(file, { start, end }));
  });

  app.post<{ Body: UploadBody }>('/v1/vehicles/reports', { bodyLimit: UPLOAD_BODY_LIMIT, schema: { body: uploadSchema }, attachValidation: true }, async (req) => {
    if (req.validationError !== undefined) throw new HesGateError('HG_BAD_REQUEST', uploadProblem(req.validationError as { validation?: Array<{ instancePath: string; message?: string }> }));
    const vehicle = req.vehicle!;
    const body = req.body;
    const journal = opts.journal;
    if (journal !== null) {
      for (const e of body.entries) journal.record({ ...e, gate: `${vehicle.id}/${e.gate}`, reader: e.reader ?? undefined });
    }
    const journaled = journal === null ? 0 : body.entries.length;
    await registry.noteUpload(vehicle.id, { at: opts.clock(), listVersion: body.listVersion, listIssuedAt: body.listIssuedAt, clockAt: body.clockAt });
    opts.onUpload?.(vehicle.id, body, journaled);
    return { accepted: body.entries.length, journaled };
  });
}
