/**
 * The benchmarks stay out of the product: the product's build compiles src/ only (bench/ has its
 * own tsconfig, built by `npm run bench`), and no test imports from bench/ — a test that needed
 * a benchmark's code would make the benchmark part of what the product must keep compiling.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mjs|js)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** Specifiers of static and dynamic imports and re-exports in a source text. */
function imports(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

describe('benchmarks apart from the product', () => {
  it('the product build does not compile bench/, and bench/ has a build of its own', () => {
    const product = readFileSync('tsconfig.json', 'utf8');
    expect(product).toMatch(/"include": \["src\/\*\*\/\*\.ts"\]/);
    expect(readFileSync('test/tsconfig.json', 'utf8')).not.toContain('bench/');
    expect(readFileSync('bench/tsconfig.json', 'utf8')).toContain('"include": ["./**/*.ts"]');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['build']).not.toContain('bench');
    expect(pkg.scripts['bench']).toContain('bench:build');
  });

  it('no test imports from bench/', () => {
    const offenders = files('test').flatMap((f) => imports(readFileSync(f, 'utf8')).filter((s) => /(^|\/)bench\//.test(s)).map((s) => `${f}: ${s}`));
    expect(offenders).toEqual([]);
  });

  it('finds an import from bench/ when there is one (the scan itself works)', () => {
    const b = 'bench'; // spelled apart, so this file's own text holds no such import
    const text = `import { x } from '../../${b}/child.js';\nexport * from "../${b}/report.js";\nawait import('../${b}/run.js');`;
    expect(imports(text)).toEqual([`../../${b}/child.js`, `../${b}/report.js`, `../${b}/run.js`]);
  });
});
