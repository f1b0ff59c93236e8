import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE, SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { configFile, runSelftestCli, tempDir, type CliRun } from './helpers.js';

/**
 * The operator's own credentials at a simulator that accepts them: with the simulator's published
 * ones the run would (rightly) report the simulator environment; these rehearse a real test run.
 */
const USER = 'HESGATE-REHEARSAL';
const PASSWORD = 'rehearsal-password-7f3a';
const ALL_CODES = Object.values(SAMPLE);

let sim: Simulator;
let dir: string;
let config: string;
let codesFile: string;

/** Codes for every check, as an operator would write them (with dashes). */
const CODES = {
  riskless: 'A1B2-3456-78',
  risky: SAMPLE.RISKY,
  notFound: SAMPLE.NOT_FOUND,
  expired: SAMPLE.EXPIRED,
  employee: SAMPLE.RISKLESS,
  visitor: { code: SAMPLE.RISKLESS_NEAR_EXPIRY, city: 'İzmir', district: 'Konak', explicitAddress: 'Konak İskelesi' },
};

function env(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HES_GATE_CONFIG: config,
    HES_GATE_MINISTRY_URL: sim.url,
    HES_GATE_MINISTRY_USER: USER,
    HES_GATE_MINISTRY_PASSWORD: PASSWORD,
    ...overrides,
  };
}

function check(run: CliRun, id: string): Record<string, any> {
  const found = run.json?.checks.find((c: { id: string }) => c.id === id);
  expect(found, `check ${id}`).toBeDefined();
  return found;
}

/** Nothing that identifies a person or opens the account may reach the output or the report. */
function expectNoSecrets(run: CliRun): void {
  const everything = [run.stdout, run.stderr, run.markdown ?? '', JSON.stringify(run.json ?? {})].join('\n');
  for (const code of ALL_CODES) expect(everything).not.toContain(code);
  expect(everything).not.toContain(PASSWORD);
  expect(everything).not.toContain(USER);
}

/** The first call fails: exit 1, the credentials check says why, every other check is skipped. */
function expectFirstCallFailure(run: CliRun, errorCode: string, reason: string | RegExp, action: string | RegExp): void {
  expect(run.code).toBe(1);
  const first = check(run, 'credentials');
  expect(first.outcome).toBe('FAIL');
  expect(first.errorCode).toBe(errorCode);
  expect(first.reason).toMatch(reason);
  expect(first.action).toMatch(action);
  expect(run.json!.checks.slice(1).every((c: { outcome: string }) => c.outcome === 'SKIP')).toBe(true);
  expect(run.json!.result).toBe('FAIL');
  expect(run.stdout).toMatch(/^FAIL\s+credentials/m);
  expect(run.stdout).toContain(`credentials: ${first.action}`);
  expect(run.stdout.match(/^What to do:\n(  .*\n)+/m)![0].split('\n').filter(Boolean)).toHaveLength(2);
  expectNoSecrets(run);
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, users: [{ user: USER, password: PASSWORD }] });
  dir = tempDir('hes-gate-selftest-');
  config = configFile(dir, { ministry: { connectTimeoutMs: 300, headersTimeoutMs: 300, bodyTimeoutMs: 300 } });
  codesFile = join(dir, 'codes.json');
  writeFileSync(codesFile, JSON.stringify(CODES));
});

afterEach(() => sim.resetFaults());
afterAll(() => sim.close());

describe('hes-gate selftest against the simulator', () => {
  it('passes every check with the operator\'s codes, prints a table and writes both report files', async () => {
    const run = await runSelftestCli({ codes: codesFile }, env());
    expect(run.stderr).not.toMatch(/FAIL/);
    expect(run.code).toBe(0);
    expect(run.json!.result).toBe('PASS');
    expect(run.json!.summary).toEqual({ pass: 10, fail: 0, skip: 0 });
    expect(run.json!.environment).toBe('test');
    expect(run.json!.ministry).toEqual({ host: new URL(sim.url).host, path: '/services/g2g/test/saglik/hes/' });
    expect(run.json!.user).toBe('HESGATE-****');
    expect(run.json!.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(run.json!.latency.calls).toBeGreaterThanOrEqual(14);
    expect(run.json!.latency.byEndpoint['check-visitor-hes-code'].calls).toBe(1);
    expect(check(run, 'bulk').reason).toBe('A1B2-****-** → RISKLESS, E5F6-****-** → RISKY, G7H8-****-** → not-found, J9K0-****-** → expired');
    expect(run.files.map((f) => f.replace(/.*\//, ''))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^selftest-report-test-\d{8}T\d{6}Z\.md$/), expect.stringMatching(/^selftest-report-test-\d{8}T\d{6}Z\.json$/)]),
    );
    expect(run.markdown).toContain('| PASS | Bulk check (4 codes, good and bad) | `check-hes-codes` |');
    expect(run.stdout).toMatch(/^PASS: 10 passed, 0 failed, 0 skipped$/m);
    expect(run.stdout).toContain('step 5');
    expectNoSecrets(run);
    // Every endpoint the service uses was really called.
    expect(Object.values(sim.counts().byPath).every((n) => n > 0)).toBe(true);
  });

  it('runs against the embedded simulator with its sample codes when no base URL is configured', async () => {
    const run = await runSelftestCli({}, {});
    expect(run.code).toBe(0);
    expect(run.json!.environment).toBe('simulator');
    expect(run.json!.summary).toEqual({ pass: 10, fail: 0, skip: 0 });
    expectNoSecrets(run);
  });

  it('the embedded simulator is the simulator environment even when HES_GATE_ENVIRONMENT says live or test', async () => {
    for (const label of ['live', 'test']) {
      const run = await runSelftestCli({}, { HES_GATE_ENVIRONMENT: label });
      expect(run.code, label).toBe(0);
      expect(run.json!.environment).toBe('simulator');
      expect(run.stderr).toContain('checking the simulator environment');
      expect(run.files.every((f) => /selftest-report-simulator-/.test(f))).toBe(true);
    }
  });

  it('skips the checks whose codes were not given, and still passes', async () => {
    const run = await runSelftestCli({ riskless: SAMPLE.RISKLESS }, env());
    expect(run.code).toBe(0);
    expect(run.json!.summary).toEqual({ pass: 6, fail: 0, skip: 4 });
    expect(check(run, 'expired')).toMatchObject({ outcome: 'SKIP', action: expect.stringContaining('--expired CODE') });
    expect(check(run, 'bulk').title).toBe('Bulk check (1 code)');
  });

  it('wrong password: the ministry refused the user name/password', async () => {
    const run = await runSelftestCli({ codes: codesFile }, env({ HES_GATE_MINISTRY_PASSWORD: 'not-the-password' }));
    expectFirstCallFailure(
      run,
      'HG_MINISTRY_AUTH',
      'the ministry refused the user name/password for this environment',
      /check HES_GATE_MINISTRY_USER and HES_GATE_MINISTRY_PASSWORD\(_FILE\)/,
    );
    expect(JSON.stringify(run)).not.toContain('not-the-password');
  });

  it('unreachable (a closed port): check network/proxy/base URL', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as { port: number };
        server.close(() => resolve(p));
      });
    });
    const run = await runSelftestCli({ codes: codesFile }, env({ HES_GATE_MINISTRY_URL: `http://127.0.0.1:${port}/services/g2g/test/saglik/hes/` }));
    expectFirstCallFailure(run, 'HG_MINISTRY_CONNECTION', /^unreachable: .*ECONNREFUSED/, /^check network\/proxy\/base URL/);
  });

  it('wrong base path: check ministry.baseUrl (test vs live prefix)', async () => {
    const run = await runSelftestCli({ codes: codesFile }, env({ HES_GATE_MINISTRY_URL: `${sim.origin}/services/g2g/test/saglik/hes-v2/` }));
    expectFirstCallFailure(run, 'HG_MINISTRY_HTTP_STATUS', /^wrong base path/, /^check ministry\.baseUrl \(test vs live prefix\)/);
  });

  it('the ministry answers 503', async () => {
    sim.setFaults({ status: 503 });
    const run = await runSelftestCli({ codes: codesFile }, env());
    expectFirstCallFailure(run, 'HG_MINISTRY_SERVER_ERROR', /HTTP 503/, /rerun later/);
  });

  it('the ministry hangs: no answer within the configured timeout', async () => {
    sim.setFaults({ hang: true });
    const run = await runSelftestCli({ codes: codesFile }, env());
    expectFirstCallFailure(run, 'HG_MINISTRY_TIMEOUT', /^unreachable: no answer in time/, /^check network\/proxy\/base URL/);
  });

  it('a garbage body (an HTML page instead of JSON)', async () => {
    sim.setFaults({ body: 'garbage' });
    const run = await runSelftestCli({ codes: codesFile }, env());
    expectFirstCallFailure(run, 'HG_MINISTRY_BAD_RESPONSE', /not the ministry's JSON/, /proxy/);
  });

  it('rate limited (429) with Retry-After', async () => {
    sim.setFaults({ rateLimit: { retryAfterSeconds: 30 } });
    const run = await runSelftestCli({ codes: codesFile }, env());
    expectFirstCallFailure(run, 'HG_MINISTRY_RATE_LIMITED', /^rate limited \(HTTP 429\), retry after 30 s$/, /wait and rerun/);
  });

  it('a sample code that does not answer as the operator said fails that check only', async () => {
    const run = await runSelftestCli({ riskless: SAMPLE.RISKY }, env());
    expect(run.code).toBe(1);
    expect(check(run, 'credentials').outcome).toBe('PASS');
    expect(check(run, 'single')).toMatchObject({ outcome: 'FAIL', reason: 'E5F6-****-** → RISKY, expected RISKLESS', action: expect.stringContaining('--riskless') });
    expectNoSecrets(run);
  });

  it('refuses the live environment without --live, before any call', async () => {
    const before = sim.counts().total;
    const run = await runSelftestCli({ codes: codesFile }, env({ HES_GATE_MINISTRY_URL: sim.liveUrl }));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/LIVE ministry environment.*--live/s);
    expect(run.files).toEqual([]);
    expect(sim.counts().total).toBe(before);
  });

  it('runs against the live environment with --live', async () => {
    const run = await runSelftestCli({ codes: codesFile, live: true }, env({ HES_GATE_MINISTRY_URL: sim.liveUrl }));
    expect(run.code).toBe(0);
    expect(run.json!.environment).toBe('live');
    expect(run.files.some((f) => /selftest-report-live-/.test(f))).toBe(true);
  });

  it('with the simulator\'s own credentials (`hes-gate simulate`), its report says the simulator answered, whatever the path (issue 20)', async () => {
    const own = await startSimulator({ port: 0 });
    try {
      const run = await runSelftestCli({ codes: codesFile, live: true }, env({ HES_GATE_MINISTRY_URL: own.liveUrl, HES_GATE_MINISTRY_USER: SIMULATOR_USER, HES_GATE_MINISTRY_PASSWORD: SIMULATOR_PASSWORD }));
      expect(run.code).toBe(0);
      // A report that said `live` (or `test`) here could be taken for proof against the ministry.
      expect(run.json!.environment).toBe('simulator');
      expect(run.stderr).toContain('checking the simulator environment');
      expect(run.files.every((f) => /selftest-report-simulator-/.test(f))).toBe(true);
      expect(run.stdout).not.toContain('step 5');
    } finally {
      await own.close();
    }
  });

  it('usage errors exit 2 and name the option, never the value', async () => {
    const bad = await runSelftestCli({ risky: 'ZZZ-SECRET' }, env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--risky must be a HES code');
    expect(bad.stderr).not.toContain('ZZZ-SECRET');
    const none = await runSelftestCli({}, env());
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('needs at least --riskless CODE');
    const badConfig = await runSelftestCli({}, env({ HES_GATE_PORT: 'eighty' }));
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain('HG_CONFIG_INVALID: server.port');
  });

  it('shows progress: plain lines when not on a TTY, rewritten lines on a TTY', async () => {
    const plain = await runSelftestCli({ riskless: SAMPLE.RISKLESS }, env());
    expect(plain.stderr).toMatch(/^\[ 1\/10\] start credentials: Ministry reachable, credentials accepted$/m);
    expect(plain.stderr).toMatch(/^\[ 1\/10\] PASS  Ministry reachable, credentials accepted \(\d+ ms\)$/m);
    expect(plain.stderr).not.toContain('\r');
    const tty = await runSelftestCli({ riskless: SAMPLE.RISKLESS }, env(), true);
    expect(tty.stderr).toContain('[ 1/10] ....  Ministry reachable, credentials accepted\r\x1b[2K[ 1/10] PASS  ');
  });
});

describe('hes-gate selftest report directory', () => {
  it('refuses a report directory it cannot create, before any call', async () => {
    const blocker = join(tempDir('hes-gate-selftest-'), 'a-file');
    writeFileSync(blocker, '');
    const run = await runSelftestCli({ report: join(blocker, 'reports') }, {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot write the report into .*a-file\/reports: ENOTDIR/);
  });
});
