import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selftest, type SelftestCliOptions } from '../../src/cli/selftest.js';

/** A stream that keeps what was written. */
export class Capture {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A configuration file with short ministry timeouts (a hung ministry fails in ms, not seconds). */
export function configFile(dir: string, content: Record<string, unknown>): string {
  const path = join(dir, `config-${readdirSync(dir).length}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Markdown and JSON report files written, if any. */
  markdown: string | null;
  json: Record<string, any> | null;
  files: string[];
}

export async function runSelftestCli(opts: SelftestCliOptions, env: NodeJS.ProcessEnv, stderrTty = false): Promise<CliRun> {
  const report = tempDir('hes-gate-selftest-report-');
  const stdout = new Capture();
  const stderr = new Capture(stderrTty);
  const code = await selftest({ report, ...opts }, { env, stdout, stderr });
  const files = readdirSync(report).map((f) => join(report, f));
  const md = files.find((f) => f.endsWith('.md'));
  const js = files.find((f) => f.endsWith('.json'));
  return {
    code,
    stdout: stdout.text,
    stderr: stderr.text,
    markdown: md === undefined ? null : readFileSync(md, 'utf8'),
    json: js === undefined ? null : JSON.parse(readFileSync(js, 'utf8')),
    files,
  };
}
