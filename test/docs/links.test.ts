/**
 * Issue 22: docs sent operators to sections that had moved (integration.md's "Installing", the
 * sizing "in docs/performance.md"). Every relative link in the docs names a file that exists
 * and, with a #fragment, a heading that file has (GitHub's heading ids: lower case, punctuation
 * dropped, spaces as dashes, Turkish letters kept; a repeated heading gets -1, -2 …).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FILES = [...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'README.md', 'ops/redis/README.md'];

const withoutCode = (text: string): string => text.replace(/```[\s\S]*?```/g, '');

function headingId(heading: string): string {
  return heading
    .trim()
    // Not the Turkish rule: GitHub lower-cases "Issue" to "issue", not "ıssue".
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N}\- ]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  for (const m of withoutCode(readFileSync(join(ROOT, file), 'utf8')).matchAll(/^#+\s+(.*)$/gm)) {
    const id = headingId(m[1]!);
    const n = seen.get(id);
    seen.set(id, n === undefined ? 0 : n + 1);
    ids.add(n === undefined ? id : `${id}-${n + 1}`);
  }
  return ids;
}

describe('links between the docs', () => {
  it('ids headings as GitHub does, Turkish ones too', () => {
    expect(headingId('Hazır derlenmiş ikilisi olmayan makineler (ARM kartlar)')).toBe('hazır-derlenmiş-ikilisi-olmayan-makineler-arm-kartlar');
    expect(headingId('Sizing: 1,000 stations, 8M bound cards')).toBe('sizing-1000-stations-8m-bound-cards');
    expect(headingId('Exit codes of `hes-gate cards import`')).toBe('exit-codes-of-hes-gate-cards-import');
    expect(headingId('Issue 19: server CPU per decision, 2026-12-07')).toBe('issue-19-server-cpu-per-decision-2026-12-07');
  });

  it.each(FILES)('%s links to files and headings that exist', (file) => {
    const broken: string[] = [];
    for (const m of withoutCode(readFileSync(join(ROOT, file), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z]+:/.test(link)) continue;
      const [path, fragment] = link.split('#') as [string, string | undefined];
      const target = path === '' ? file : normalize(join(dirname(file), path));
      if (!existsSync(join(ROOT, target))) broken.push(`${link}: no file ${target}`);
      else if (fragment !== undefined && target.endsWith('.md') && !anchorsOf(target).has(fragment)) broken.push(`${link}: no heading #${fragment} in ${target}`);
    }
    expect(broken).toEqual([]);
  });
});
