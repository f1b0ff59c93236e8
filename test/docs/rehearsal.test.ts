/**
 * Issue 22: integration.md's fault rehearsal (`hes-gate simulate`, then `hes-gate selftest`)
 * exited 2 as written. This runs the documented block itself — the English and the Turkish one —
 * in bash, with the real command from the sources and only the port changed, and checks what the
 * comments promise: exit 0, then 1 with a 503, then 1 with refused credentials, and the
 * simulator stopped by the block's own `kill %1`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOOKS, MAIN } from '../cli/cli.js';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'integration.md'), 'utf8');

/** The first ```sh block after `heading`. */
function block(heading: string): string {
  const from = DOC.indexOf(`\n${heading}\n`);
  expect(from, heading).toBeGreaterThan(0);
  const start = DOC.indexOf('```sh\n', from) + '```sh\n'.length;
  return DOC.slice(start, DOC.indexOf('\n```', start));
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Each `hes-gate selftest` line also prints its exit code (before the line's comment). */
function withExitCodes(script: string): string {
  return script
    .split('\n')
    .map((line) => {
      if (!line.startsWith('hes-gate selftest')) return line;
      const hash = line.indexOf('  #');
      const command = hash < 0 ? line : line.slice(0, hash).trimEnd();
      return `${command}; echo "exit:$?"`;
    })
    .join('\n');
}

/** Whether nothing listens on the port any more (a connection is refused). */
function closed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

describe('integration.md: the fault rehearsal on the simulator, run as written', () => {
  it.each(['### Rehearsing faults on the simulator', '### Simülatörde hata provası'])('%s', async (heading) => {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-rehearsal-'));
    // `hes-gate` as the installed command would be: one executable, from the sources.
    writeFileSync(join(dir, 'hes-gate'), `#!/bin/sh\nexec "${process.execPath}" --import "${HOOKS}" "${MAIN}" "$@"\n`);
    chmodSync(join(dir, 'hes-gate'), 0o755);
    const port = await freePort();
    const script = withExitCodes(block(heading).replaceAll('8089', String(port)));
    expect(script).toContain('hes-gate simulate --port');
    writeFileSync(join(dir, 'rehearsal.sh'), `set -u\n${script}\nwait\n`);
    const child = spawn('bash', ['rehearsal.sh'], { cwd: dir, env: { PATH: `${dir}:${process.env.PATH ?? ''}`, HOME: dir } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    expect(code, out).toBe(0);
    expect(out.match(/^exit:\d$/gm), out).toEqual(['exit:0', 'exit:1', 'exit:1']);
    expect(out).toMatch(/^PASS: 8 passed, 0 failed, 2 skipped$/m);
    expect(out).toMatch(/^FAIL\s+credentials\s+\d+\s+the ministry's service failed \(HTTP 503\)$/m);
    expect(out).toMatch(/^FAIL\s+credentials\s+\d+\s+the ministry refused the user name\/password for this environment/m);
    expect(await closed(port), 'the block stops its simulator').toBe(true);
  }, 120_000);
});
