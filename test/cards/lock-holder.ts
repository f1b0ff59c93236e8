/**
 * Another process holding the card store's write lock: a second better-sqlite3 connection in
 * `BEGIN IMMEDIATE`, as any tool writing the file would. It holds until its stdin closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';

export interface LockHolder {
  release(): Promise<void>;
  kill(): void;
}

export async function holdWriteLock(file: string): Promise<LockHolder> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO admin_journal (at, who, action) VALUES (0, 'test', 'lock')").run();
    process.stdout.write('locked\\n');
    process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
    process.stdin.resume();
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', script, file], { cwd: path.resolve(import.meta.dirname, '..', '..'), stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  for await (const line of readline.createInterface({ input: child.stdout! })) {
    if (line === 'locked') {
      return {
        async release() {
          child.stdin!.end();
          await exited;
        },
        kill: () => void child.kill('SIGKILL'),
      };
    }
  }
  throw new Error('the lock holder exited before taking the lock');
}
