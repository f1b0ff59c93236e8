/**
 * Issue 11: what `npm pack` ships. No tests, benchmark sources or CI script; everything `serve`
 * needs, proven by running `serve` and `--version` from the unpacked tarball (no git there).
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { buildInfo } from '../../src/build-info.js';
import { versionLine } from '../../src/cli/version.js';

const ROOT = resolve('.');
const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
}

function npm(args: string[], cwd = ROOT): string {
  // --ignore-scripts: the suite's build step has built dist/ already; a second tsc would rewrite
  // files other tests are running.
  return execFileSync('npm', [...args, '--ignore-scripts'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

function gitHead(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

describe('npm pack', () => {
  const listed = (JSON.parse(npm(['pack', '--dry-run', '--json'])) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);

  it('ships no tests, benchmark sources, CI script or TypeScript sources', () => {
    const unwanted = listed.filter((p) => /^(test|bench|\.ci|dist\/bench)\//.test(p) || /^src\/.*\.ts$/.test(p) || p.endsWith('.map') || p === 'Dockerfile');
    expect(unwanted).toEqual([]);
  });

  it('ships what serve needs: the compiled code, configurations, device profiles, build info', () => {
    const compiled = walk(resolve('dist/src')).filter((f) => f.endsWith('.js')).map((f) => relative(ROOT, f));
    expect(compiled.length).toBeGreaterThan(50);
    const missing = [
      'package.json',
      'README.md',
      'dist/build-info.json',
      'packaging/hes-gate.service',
      'packaging/hes-gate.env.example',
      'packaging/hes-gate-backup.service',
      'packaging/hes-gate-backup.timer',
      'packaging/hes-gate-city.conf',
      ...compiled,
      ...readdirSync('config').map((f) => `config/${f}`),
      ...readdirSync('devices').map((f) => `devices/${f}`),
      // Operations (issue 22): a hub's Redis ACL and its password script, the Prometheus rules
      // and their tests, the Grafana dashboards.
      ...walk(resolve('ops')).map((f) => relative(ROOT, f)),
      // The live page's assets, when they are files of their own.
      ...(existsSync('src/http/live') ? walk(resolve('src/http/live')).map((f) => relative(ROOT, f)) : []),
    ].filter((p) => !listed.includes(p));
    expect(missing).toEqual([]);
  });

  it('installs as a tarball that serves and names its version and commit without git', async () => {
    const dir = tempDir('hg-pack-');
    const out = npm(['pack', '--pack-destination', dir, '--json']);
    const tarball = join(dir, (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename);
    execFileSync('tar', ['-xzf', tarball, '-C', dir]);
    const pkg = join(dir, 'package');
    // The dependencies, as `npm install <tarball>` would put them beside it.
    symlinkSync(resolve('node_modules'), join(pkg, 'node_modules'), 'dir');
    const main = join(pkg, 'dist/src/cli/main.js');
    // The hub's password script keeps its execute bit through the tarball.
    expect(statSync(join(pkg, 'ops/redis/with-passwords.sh')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(pkg, 'ops/redis/users.acl'), 'utf8')).toMatch(/^user /m);

    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const printed = execFileSync(process.execPath, [main, '--version'], { encoding: 'utf8' }).trim();
    const head = gitHead();
    expect(printed).toMatch(new RegExp(`^hes-gate ${version.replace(/\./g, '\\.')} \\(commit ([0-9a-f]{12}(-modified)?|unknown)\\)$`));
    // Built from this checkout (npm test's build step), so the commit is this checkout's.
    if (head !== null) expect(printed, "dist/ was built at another commit: npm run build").toContain(`commit ${head.slice(0, 12)}`);

    const dataDir = join(dir, 'data');
    const child = spawn(process.execPath, [main, 'serve'], {
      cwd: dir,
      env: { ...process.env, HES_GATE_CONFIG: 'default', HES_GATE_PORT: '0', HES_GATE_DATA_DIR: dataDir, HES_GATE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'hes-gate is serving') resolveUrl(String(entry.url));
        });
        child.once('exit', (code) => reject(new Error(`serve from the tarball exited with ${code}: ${stderr}`)));
      });
      const res = await fetch(`${url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"gate":"G1","hesCode":"A1B2345678"}' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { verdict: string }).verdict).toMatch(/^(pass|deny)$/);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
  }, 60_000);
});

describe('build info', () => {
  function packageRoot(): string {
    const root = tempDir('hg-build-info-');
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'hes-gate', version: '9.8.7' }));
    mkdirSync(join(root, 'packaging'));
    cpSync('packaging/write-build-info.mjs', join(root, 'packaging/write-build-info.mjs'));
    return root;
  }

  it('says "commit unknown" when built without git or HES_GATE_COMMIT', () => {
    const root = packageRoot();
    const env = { ...process.env };
    delete env.HES_GATE_COMMIT;
    execFileSync(process.execPath, [join(root, 'packaging/write-build-info.mjs')], { env, cwd: root });
    expect(buildInfo(root)).toEqual({ version: '9.8.7', commit: 'unknown', dirty: false });
    expect(versionLine(buildInfo(root))).toBe('hes-gate 9.8.7 (commit unknown)');
  });

  it('takes the commit from HES_GATE_COMMIT (a container build argument)', () => {
    const root = packageRoot();
    execFileSync(process.execPath, [join(root, 'packaging/write-build-info.mjs')], { env: { ...process.env, HES_GATE_COMMIT: '0123456789abcdef0123456789abcdef01234567' }, cwd: root });
    expect(versionLine(buildInfo(root))).toBe('hes-gate 9.8.7 (commit 0123456789ab)');
  });

  it('reads "unknown" rather than failing when the build info is missing', () => {
    const root = packageRoot();
    expect(buildInfo(root).commit).toBe('unknown');
  });
});
