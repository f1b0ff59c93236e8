import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { MinistryClientOptions } from './client.js';

/** Client options from the configuration's `ministry` section; the address and credentials are the caller's. */
export function ministryClientOptions(
  config: Config,
  target: Pick<MinistryClientOptions, 'baseUrl' | 'user' | 'password' | 'onCall' | 'clock'>,
): MinistryClientOptions {
  return {
    ...target,
    connections: config.ministry.connections,
    connectTimeoutMs: config.ministry.connectTimeoutMs,
    headersTimeoutMs: config.ministry.headersTimeoutMs,
    bodyTimeoutMs: config.ministry.bodyTimeoutMs,
    ca: config.ministry.caFile === null ? undefined : readFileSync(resolve(config.ministry.caFile)),
  };
}
