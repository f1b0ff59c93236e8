/**
 * The shipped ACL file with passwords added by the shipped script, as an operator installs it;
 * each station's own user (`hes-gate-node-<id>`) added with the rules `hes-gate city node add`
 * prints for it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CityConfig } from '../../../src/city/connect.js';
import { Secret } from '../../../src/config/sensitive-value.js';
import { nodeUser, stationAclRules } from '../../../src/city/identity/node-registry.js';

export const OPS_REDIS = join(import.meta.dirname, '..', '..', '..', 'ops', 'redis');

/** users.acl plus a user of its own for each station in `stations`, through with-passwords.sh; each password written to a file in `dir` first (0600). */
export function aclWithPasswords(dir: string, passwords: Record<string, string>, stations: readonly string[] = []): string {
  const base = join(dir, 'users-with-stations.acl');
  writeFileSync(base, readFileSync(join(OPS_REDIS, 'users.acl'), 'utf8') + stations.map((id) => `user ${nodeUser(id)} ${stationAclRules(id)}\n`).join(''));
  const pairs = Object.entries(passwords).map(([user, password]) => {
    const file = join(dir, `${user}.password`);
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    return `${user}=${file}`;
  });
  const acl = execFileSync(join(OPS_REDIS, 'with-passwords.sh'), [base, ...pairs], { encoding: 'utf8' });
  for (const p of Object.values(passwords)) if (acl.includes(p)) throw new Error('a password reached the ACL file in clear');
  return acl;
}

/** City settings of one role's connection (the production connect.ts reads these). */
export function cityConfig(role: 'hub' | 'station', password: string, where: { url?: string; sentinels?: string[] }, stationId = 'station-s1'): CityConfig {
  return {
    role,
    redisUrl: where.url ?? null,
    redisUser: role === 'hub' ? 'hes-gate-hub' : nodeUser(stationId),
    redisPassword: new Secret(password),
    sentinels: where.sentinels ?? [],
    sentinelName: 'hes-gate',
    keyFile: null,
    nodeKeyFile: null,
    tlsCaFile: null,
    connectTimeoutMs: 2000,
    leaseMs: 10_000,
    heartbeatMs: 5000,
    changesMaxLen: 1_000_000,
    lookupsMaxLen: 100_000,
    maxCallsPerSecond: 10,
    ackReplicas: 0,
    ackTimeoutMs: 5000,
    reconcileMs: 300_000,
  };
}
