/**
 * Issue 20: a one-character token was accepted, even on 0.0.0.0. One rule for every bearer
 * token (src/config/token-rule.ts), refused by `serve`'s start checks with HG_TOKEN_WEAK —
 * loopback or not — and never repeated in the refusal.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startProblems, tokenProblems } from '../../src/config/start-checks.js';
import { TOKEN_MIN_LENGTH, tokenWeakness } from '../../src/config/token-rule.js';

const STRONG = 'token-rule-test-api-token';
const OTHER = 'token-rule-test-admin-token';

function configWith(env: Record<string, string>) {
  return loadConfig({ noFile: true, env: { HES_GATE_DATA_DIR: '/tmp/unused', ...env } }).config;
}

describe('the token rule', () => {
  it.each([
    ['one character', 'x', /1 character, at least 16/],
    ['fifteen characters', 'abcdefghijklmno', /15 characters, at least 16/],
    ['one character repeated', 'aaaaaaaaaaaaaaaaaaaa', /too few characters/],
    ['two alternating', 'abababababababababab', /too few characters/],
    ['a space inside', 'abcdefgh ijklmnopq', /printable ASCII only/],
    ['a non-ASCII character', 'abcdefghijklmnopqş', /printable ASCII only/],
  ])('refuses %s', (_label, token, why) => {
    expect(tokenWeakness(token)).toMatch(why);
  });

  it('passes what openssl rand makes, and long pass phrases', () => {
    for (let i = 0; i < 200; i++) expect(tokenWeakness(randomBytes(16).toString('hex'))).toBeNull();
    for (let i = 0; i < 200; i++) expect(tokenWeakness(randomBytes(12).toString('base64'))).toBeNull();
    expect(tokenWeakness(STRONG)).toBeNull();
    expect(TOKEN_MIN_LENGTH).toBe(16);
  });

  it('applies to the API, admin and embedded simulator tokens alike, naming the variable and never the token', () => {
    const problems = tokenProblems(configWith({ HES_GATE_API_TOKEN: 'Q', HES_GATE_ADMIN_TOKEN: 'Qq', HES_GATE_SIMULATOR_TOKEN: 'Qqq' }));
    expect(problems.map((p) => [p.code, p.details?.['key']])).toEqual([
      ['HG_TOKEN_WEAK', 'server.apiToken'],
      ['HG_TOKEN_WEAK', 'server.adminToken'],
      ['HG_TOKEN_WEAK', 'simulator.controlToken'],
    ]);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^HES_GATE_API_TOKEN is too weak: it has 1 character/),
      expect.stringMatching(/^HES_GATE_ADMIN_TOKEN is too weak: it has 2 characters/),
      expect.stringMatching(/^HES_GATE_SIMULATOR_TOKEN is too weak: it has 3 characters/),
    ]);
    for (const p of problems) expect(p.message).not.toMatch(/Q/);
  });

  it('refuses the admin token equal to the API token', () => {
    expect(tokenProblems(configWith({ HES_GATE_API_TOKEN: STRONG, HES_GATE_ADMIN_TOKEN: STRONG })).map((p) => p.message)).toEqual([expect.stringMatching(/HES_GATE_ADMIN_TOKEN equals HES_GATE_API_TOKEN/)]);
    expect(tokenProblems(configWith({ HES_GATE_API_TOKEN: STRONG, HES_GATE_ADMIN_TOKEN: OTHER }))).toEqual([]);
  });

  it('is part of the start checks, on 0.0.0.0 and on loopback', async () => {
    const lookup = async (host: string) => [{ address: host === 'localhost' ? '127.0.0.1' : host, family: 4 }];
    for (const host of ['0.0.0.0', '127.0.0.1']) {
      const problems = await startProblems(configWith({ HES_GATE_HOST: host, HES_GATE_API_TOKEN: '1', HES_GATE_ADMIN_TOKEN: OTHER }), { createDataDir: false, lookup });
      expect(problems.map((p) => p.code)).toEqual(['HG_TOKEN_WEAK']);
    }
  });
});
