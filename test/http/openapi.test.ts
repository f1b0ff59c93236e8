/**
 * Issue 11: `GET /openapi.json` is an OpenAPI 3.1 document that lists every route of a running
 * station, that real answers of those routes satisfy, and that the README's (and docs/cards.md's)
 * request and response examples validate against.
 */
import { readFileSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HesGate } from '../../src/hes-gate.js';
import { startTestGate } from './helpers.js';

// CommonJS modules seen from ESM.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as unknown as typeof Ajv2020Module.default;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as typeof addFormatsModule.default;

const ADMIN = 'openapi-admin-token';
const API = 'openapi-api-token';
type Doc = { openapi: string; info: { version: string }; paths: Record<string, Record<string, Operation>> };
type Operation = {
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
};

let gate: HesGate;
let doc: Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

beforeAll(async () => {
  ({ gate } = await startTestGate({}, { HES_GATE_ADMIN_TOKEN: ADMIN, HES_GATE_API_TOKEN: API }));
  const res = await gate.app.inject({ url: '/openapi.json', headers: { authorization: `Bearer ${API}` } });
  expect(res.statusCode).toBe(200);
  doc = res.json() as Doc;
});
afterAll(async () => {
  await gate?.close();
});

/** Every route the server has, from fastify's own route tree (`METHOD /path/{param}`). */
function registeredRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (m === null) continue;
    const depth = m[1]!.length / 4;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(', ').filter((x) => x !== '' && x !== 'HEAD')) {
      out.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return out;
}

function operation(method: string, path: string): Operation {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (op === undefined) throw new Error(`${method} ${path} is not in /openapi.json`);
  return op;
}

function check(schema: object, value: unknown): string | null {
  const validate = ajv.compile(schema);
  return validate(value) ? null : ajv.errorsText(validate.errors);
}

function responseSchema(method: string, path: string, status: number, type = 'application/json'): object {
  const responses = operation(method, path).responses;
  const r = responses[String(status)] ?? responses[`${String(status)[0]}XX`];
  const schema = r?.content?.[type]?.schema;
  if (schema === undefined) throw new Error(`${method} ${path} documents no ${type} answer for ${status}`);
  return schema;
}

function requestSchema(method: string, path: string, type = 'application/json'): object {
  const schema = operation(method, path).requestBody?.content[type]?.schema;
  if (schema === undefined) throw new Error(`${method} ${path} documents no ${type} body`);
  return schema;
}

describe('GET /openapi.json', () => {
  it('is OpenAPI 3.1 and lists every route the station serves', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
    const routes = registeredRoutes(gate.app).filter((r) => r !== 'GET /openapi.json');
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const route of ['POST /v1/decisions', 'PUT /v1/cards/{cardId}', 'GET /v1/devices']) expect(routes).toContain(route);
    const missing = routes.filter((r) => {
      const [method, path] = r.split(' ') as [string, string];
      return doc.paths[path]?.[method.toLowerCase()] === undefined;
    });
    expect(missing).toEqual([]);
  });

  it('describes what the routes really answer', async () => {
    const inject = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
      gate.app.inject({ method: method as 'GET', url, ...(body === undefined ? {} : { payload: body as object }), headers });
    const admin = { authorization: `Bearer ${ADMIN}` };
    const cases: Array<[string, string, string, unknown?, Record<string, string>?]> = [
      ['GET', '/healthz', '/healthz'],
      ['GET', '/readyz', '/readyz'],
      ['GET', '/v1/devices', '/v1/devices'],
      ['POST', '/v1/decisions', '/v1/decisions', { gate: 'G1', hesCode: 'A1B2345678' }, { authorization: `Bearer ${API}` }],
      ['POST', '/v1/decisions', '/v1/decisions', { gate: 'G1', hesCode: 'A1B2345678', qr: 'x' }, { authorization: `Bearer ${API}` }],
      ['POST', '/v1/decisions', '/v1/decisions', { gate: 'G1', hesCode: 'A1B2345678' }],
      ['PUT', '/v1/cards/{cardId}', '/v1/cards/04:A1:B2:C3', { hesCode: 'A1B2-3456-78', profile: 'student' }, admin],
      ['PUT', '/v1/cards/{cardId}', '/v1/cards/04A1B2C3', { hesCode: 'A1B2-3456-78', profile: 'student' }, admin],
      ['GET', '/v1/cards/{cardId}', '/v1/cards/04A1B2C3', undefined, admin],
      ['GET', '/v1/cards/{cardId}', '/v1/cards/zz', undefined, admin],
      ['POST', '/v1/cards/import', '/v1/cards/import', [{ cardId: '04A1B2C4', hesCode: 'C3D4567890' }, { cardId: 'nope', hesCode: 'C3D4567890' }], admin],
    ];
    for (const [method, path, url, body, headers] of cases) {
      const res = await inject(method, url, body, headers);
      const problem = check(responseSchema(method, path, res.statusCode), res.json());
      expect(problem, `${method} ${url} → ${res.statusCode} ${res.body}`).toBeNull();
    }
    const deleted = await inject('DELETE', '/v1/cards/04A1B2C3', undefined, admin);
    expect(deleted.statusCode).toBe(204);
    expect(operation('DELETE', '/v1/cards/{cardId}').responses['204']).toBeDefined();
    const metrics = await inject('GET', '/metrics');
    expect(check(responseSchema('GET', '/metrics', 200, 'text/plain'), metrics.body)).toBeNull();
  });

  it('rejects what the decision route rejects (the schema is the route\'s own)', () => {
    const body = requestSchema('POST', '/v1/decisions');
    expect(check(body, { gate: 'G1', hesCode: 'A1B2345678' })).toBeNull();
    expect(check(body, { hesCode: 'A1B2345678' })).not.toBeNull();
    expect(check(body, { gate: 'G1', hesCode: 'A1B2345678', pin: '1234' })).not.toBeNull();
  });
});

/** JSON inside single quotes after `-d`, after `# `, in a table cell or alone in a json block. */
function examples(markdown: string): Array<{ json: unknown; line: string }> {
  const found: Array<{ json: unknown; line: string }> = [];
  const add = (text: string, line: string, descriptive = false): void => {
    try {
      found.push({ json: JSON.parse(text.replace(/\\\|/g, '|')), line });
    } catch (err) {
      // `{"error":{"code","message"}}` in prose describes a shape; an example must parse.
      if (!descriptive) throw new Error(`not JSON: ${line}`, { cause: err });
    }
  };
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const d = /-d '(\{.*\}|\[.*\])'/.exec(line);
    if (d) add(d[1]!, line);
    const comment = /^# (\{.*\})$/.exec(line.trim());
    if (comment) add(comment[1]!, line);
    const cell = /^\| `(\{.*?\})` \|/.exec(line);
    if (cell) add(cell[1]!, line);
    const inline = /`(\{"error":\{.*?\}\})`/.exec(line);
    if (inline) add(inline[1]!, line, true);
    if (line.trim() === '```json' && /^\{"verdict"/.test(lines[i + 1] ?? '')) add(lines[i + 1]!, lines[i + 1]!);
  }
  return found;
}

describe('the documented examples', () => {
  it('README: decision requests, answers and errors validate against /openapi.json', () => {
    const found = examples(readFileSync('README.md', 'utf8'));
    const requests = found.filter((e) => typeof e.json === 'object' && e.json !== null && 'gate' in e.json);
    const answers = found.filter((e) => typeof e.json === 'object' && e.json !== null && 'verdict' in e.json);
    const errors = found.filter((e) => typeof e.json === 'object' && e.json !== null && 'error' in e.json);
    expect(requests.length).toBeGreaterThanOrEqual(4);
    expect(answers.length).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const e of requests) expect(check(requestSchema('POST', '/v1/decisions'), e.json), e.line).toBeNull();
    for (const e of answers) expect(check(responseSchema('POST', '/v1/decisions', 200), e.json), e.line).toBeNull();
    for (const e of errors) expect(check(responseSchema('POST', '/v1/decisions', 400), e.json), e.line).toBeNull();
  });

  it('docs/cards.md: the admin API\'s requests and answers validate against /openapi.json', () => {
    const found = examples(readFileSync('docs/cards.md', 'utf8'));
    const put = found.filter((e) => !Array.isArray(e.json) && 'hesCode' in (e.json as object) && !('cardId' in (e.json as object)));
    const bound = found.filter((e) => !Array.isArray(e.json) && 'outcome' in (e.json as object));
    const imports = found.filter((e) => Array.isArray(e.json));
    expect([put.length, bound.length, imports.length]).toEqual([1, 1, 1]);
    expect(check(requestSchema('PUT', '/v1/cards/{cardId}'), put[0]!.json), put[0]!.line).toBeNull();
    expect(check(responseSchema('PUT', '/v1/cards/{cardId}', 201), bound[0]!.json), bound[0]!.line).toBeNull();
    expect(check(requestSchema('POST', '/v1/cards/import'), imports[0]!.json), imports[0]!.line).toBeNull();
  });
});
