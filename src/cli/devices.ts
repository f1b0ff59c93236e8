import { loadConfig, profilesDir } from '../config/load.js';
import { HesGateError } from '../errors.js';
import { stationGates } from '../devices/config.js';
import { describeDevices } from '../devices/describe.js';
import { loadProfiles } from '../config/device-profiles.js';
import { simulateTap } from '../devices/tap-simulator.js';
import type { DeviceStatus } from '../devices/events.js';

/**
 * `hes-gate devices`: the configured gates and their serial devices; with `--url`, the state
 * each device has in a running hes-gate (from its `GET /v1/devices`).
 */
export async function listDevices(opts: { url?: string }): Promise<number> {
  const { config } = loadConfig();
  const profiles = loadProfiles(profilesDir(config));
  const gates = stationGates(config.gates.list);
  let status: DeviceStatus[] = [];
  if (opts.url !== undefined) {
    // The device API needs the admin or API token whenever the service has one configured.
    const token = config.server.adminToken ?? config.server.apiToken;
    const res = await fetch(new URL('/v1/devices', opts.url), token === null ? {} : { headers: { authorization: `Bearer ${token.reveal()}` } });
    if (res.status === 401) throw new HesGateError('HG_UNAUTHORIZED', 'the service wants a token for its device API: set HES_GATE_ADMIN_TOKEN (or HES_GATE_API_TOKEN) as it has them');
    status = ((await res.json()) as { devices: DeviceStatus[] }).devices;
  }
  process.stdout.write(`${describeDevices(gates, status)}\n`);
  process.stdout.write(`\nprofiles in ${profilesDir(config)}: readers ${[...profiles.readers.keys()].join(', ')}; gates ${[...profiles.gates.keys()].join(', ')}\n`);
  return 0;
}

/** `hes-gate tap`: write what a reader of the given profile would send into a (pseudo-)terminal. */
export async function tap(opts: { port: string; profile: string; card?: string; qr?: string; aim?: string }): Promise<number> {
  const { config } = loadConfig();
  const profiles = loadProfiles(profilesDir(config));
  const profile = profiles.readers.get(opts.profile);
  if (profile === undefined) {
    throw new HesGateError('HG_CONFIG_INVALID', `--profile "${opts.profile}" is not a reader profile; expected one of ${[...profiles.readers.keys()].join(', ')}`);
  }
  if ((opts.card === undefined) === (opts.qr === undefined)) {
    throw new HesGateError('HG_CONFIG_INVALID', 'give exactly one of --card <id> or --qr <payload>');
  }
  const kind = opts.card !== undefined ? 'card' : 'qr';
  await simulateTap({ path: opts.port, profile, kind, value: (opts.card ?? opts.qr)!, ...(opts.aim === undefined ? {} : { aim: opts.aim }) });
  process.stdout.write(`wrote one ${kind} read as ${opts.profile} to ${opts.port}\n`);
  return 0;
}
