/**
 * A crash loses at most the last batch: a real journal in a child process is SIGKILLed with
 * records buffered, and with a batch in flight to its worker; every committed record survives,
 * and a batch is committed whole or not at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { transpileTree } from '../cards/transpile.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'journal-child.mjs');

class Child {
  readonly proc: ChildProcess;
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  constructor(buildDir: string, file: string) {
    this.proc = spawn(process.execPath, [FIXTURE, buildDir, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    readline.createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      if (this.waiting !== null) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.lines.push(line);
    });
  }
  next(): Promise<string> {
    const l = this.lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((r) => (this.waiting = r));
  }
  async ask(cmd: string): Promise<string> {
    this.proc.stdin!.write(`${cmd}\n`);
    return this.next();
  }
  kill(): Promise<void> {
    return new Promise((r) => {
      this.proc.once('exit', () => r());
      this.proc.kill('SIGKILL');
    });
  }
}

function rows(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM decisions').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('decision journal under SIGKILL', () => {
  const buildDir = mkdtempSync(join(tmpdir(), 'hes-gate-journal-build-'));
  beforeAll(() => transpileTree(['src/journal/journal.ts', 'src/journal/journal-worker.ts'], buildDir));

  it('keeps every committed record and loses only the buffered batch', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hes-gate-journal-kill-')), 'journal.db');
    const child = new Child(buildDir, file);
    expect(await child.next()).toBe('ready');
    expect(await child.ask('record 3000')).toBe('recorded 3000');
    expect(await child.ask('flush')).toBe('committed 3000');
    expect(await child.ask('record 700')).toBe('recorded 3700');
    await child.kill();
    expect(rows(file)).toBe(3000);
  });

  it('commits a batch in flight whole or not at all', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hes-gate-journal-kill-')), 'journal.db');
    const child = new Child(buildDir, file);
    expect(await child.next()).toBe('ready');
    expect(await child.ask('record 2000')).toBe('recorded 2000');
    expect(await child.ask('flush')).toBe('committed 2000');
    expect(await child.ask('record 5000')).toBe('recorded 7000');
    expect(await child.ask('post')).toBe('posted');
    await child.kill();
    expect([2000, 7000]).toContain(rows(file));
  });
});

