/**
 * `hes-gate vehicle keygen|add|revoke|list`: the vehicles a hub serves (docs/vehicles.md).
 *
 *   keygen --list-key F --signing-key F   the list key (`<kid>:<32 bytes base64>`) and the list-signing
 *                                         Ed25519 key (PKCS#8 PEM), both 0600, never overwritten; prints
 *                                         the public key every vehicle is configured with (vehicle.publicKey)
 *   add <id> [--token-file F] [--replace] a vehicle's fetch token: printed once, or written 0600 to F;
 *                                         the hub keeps its sha256 only
 *   revoke <id>                           the running hub refuses the token within a second (403)
 *   list [--json]                         the registry, with each vehicle's last upload
 *
 * The registry is a table of the hub's card store (`<data dir>/hes-gate.db`), written here on this
 * command's own connection, beside a running hub as `cards import` is; the hub reads the change
 * through its store worker (vehicles/hub/vehicle-registry.ts).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { NodeKey } from '../city/identity/node-key.js';
import { loadConfig } from '../config/load.js';
import { HesGateError } from '../errors.js';
import type { CardStore } from '../cards/store.js';
import { ListKey } from '../vehicles/list/index.js';
import { isVehicleId, newVehicleToken, tokenDigest } from '../vehicles/hub/vehicle-token.js';
import { table } from './city-view.js';

type Runner = (fn: () => Promise<number | void>) => () => void;

export interface VehicleCliOptions {
  dataDir?: string;
}

/** Loaded on use (as store.ts's commands do): the other commands need not load SQLite. */
async function withStore<T>(opts: VehicleCliOptions, fn: (store: CardStore) => T): Promise<T> {
  const { openCardStore, STORE_FILE } = await import('../cards/store.js');
  const loaded = loadConfig();
  const dataDir = resolve(opts.dataDir ?? loaded.config.dataDir);
  const from = opts.dataDir !== undefined ? '--data-dir' : (loaded.sources.get('dataDir') ?? 'default');
  if (opts.dataDir === undefined && loaded.config.city.role !== 'hub') {
    throw new HesGateError('HG_VEHICLE', `city.role is ${loaded.config.city.role}: vehicles are registered at a hub (run this where the hub runs, with its configuration, or name its data directory with --data-dir)`);
  }
  const file = join(dataDir, STORE_FILE);
  // A registry written into a new store in whatever directory the shell was in would be read by no hub.
  if (!existsSync(file)) throw new HesGateError('HG_VEHICLE', `there is no hub store at ${file} (data dir from ${from}): start the hub once, or name its data directory with --data-dir`);
  const store = openCardStore({ dataDir, busyTimeoutMs: 10_000 });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function checkId(id: string): void {
  if (!isVehicleId(id)) throw new HesGateError('HG_VEHICLE', 'a vehicle id is 1–63 letters, digits, dots, dashes or underscores, starting with a letter or digit');
}

export async function vehicleKeygen(opts: { listKey: string; signingKey: string; kid?: string }): Promise<number> {
  const keyText = opts.kid === undefined ? ListKey.generate() : ListKey.generate(opts.kid);
  const { pem, publicKey } = NodeKey.generate();
  for (const [file, text] of [
    [opts.listKey, keyText],
    [opts.signingKey, pem],
  ] as const) {
    try {
      await writeFile(file, text, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      throw new HesGateError('HG_VEHICLE', `${file} cannot be created (${(err as NodeJS.ErrnoException).code ?? 'error'}; an existing key file is never overwritten)`, { cause: err });
    }
  }
  process.stdout.write(`${publicKey}\n`);
  process.stderr.write(
    [
      `hes-gate: a new list key in ${opts.listKey} and list-signing key in ${opts.signingKey} (mode 0600).`,
      '  At the hub: vehicles.listKeyFile and vehicles.signingKeyFile (HES_GATE_VEHICLES_LIST_KEY_FILE, HES_GATE_VEHICLES_SIGNING_KEY_FILE).',
      `  On every vehicle: the list key file as vehicle.listKeyFile, and vehicle.publicKey ${publicKey}`,
      '',
    ].join('\n'),
  );
  return 0;
}

export async function vehicleAdd(id: string, opts: VehicleCliOptions & { tokenFile?: string; replace?: boolean }): Promise<number> {
  checkId(id);
  const token = newVehicleToken();
  // The file first: a token the operator never got must not be registered.
  if (opts.tokenFile !== undefined) {
    try {
      await writeFile(opts.tokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      throw new HesGateError('HG_VEHICLE', `the token file ${opts.tokenFile} cannot be created (${(err as NodeJS.ErrnoException).code ?? 'error'}; an existing file is never overwritten)`, { cause: err });
    }
  }
  const added = await withStore(opts, (store) => store.vehicles.add(id, tokenDigest(token), Date.now(), opts.replace === true));
  if (!added) throw new HesGateError('HG_VEHICLE', `vehicle ${id} is registered already: pass --replace to give it a new token (its old one stops working)`);
  if (opts.tokenFile === undefined) {
    process.stdout.write(`${token}\n`);
    process.stderr.write(`hes-gate: vehicle ${id} registered. The token above is shown once: put it in the vehicle's vehicle.tokenFile (mode 0600); the hub keeps only its sha256.\n`);
  } else {
    process.stderr.write(`hes-gate: vehicle ${id} registered; its token is in ${opts.tokenFile} (mode 0600): copy it to the vehicle's vehicle.tokenFile.\n`);
  }
  return 0;
}

export async function vehicleRevoke(id: string, opts: VehicleCliOptions): Promise<number> {
  checkId(id);
  const revoked = await withStore(opts, (store) => store.vehicles.revoke(id, Date.now()));
  if (!revoked) throw new HesGateError('HG_VEHICLE', `there is no vehicle ${id} in this hub's registry (hes-gate vehicle list)`);
  process.stdout.write(`hes-gate: vehicle ${id} revoked: the running hub refuses its token within a second (403 HG_VEHICLE_REVOKED); it gets no new list and its list ages into the outage policy.\n`);
  return 0;
}

export async function vehicleList(opts: VehicleCliOptions & { json?: boolean }): Promise<number> {
  const vehicles = (await withStore(opts, (store) => store.vehicles.list())).map(({ tokenSha256: _digest, ...v }) => v);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(vehicles)}\n`);
    return 0;
  }
  const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  process.stdout.write(
    `${table(
      ['vehicle', 'state', 'registered', 'last upload', 'list version', 'list issued'],
      vehicles.map((v) => [v.id, v.revokedAt === null ? 'active' : `REVOKED ${iso(v.revokedAt)}`, iso(v.createdAt), iso(v.lastUploadAt), v.lastListVersion === null ? '-' : String(v.lastListVersion), iso(v.lastListIssuedAt)]),
    )}\n`,
  );
  return 0;
}

export function registerVehicleCommands(program: Command, run: Runner): void {
  const vehicle = program.command('vehicle').description('vehicles (buses, ferries) a hub publishes its card list to: key files and fetch tokens');
  const dataDir = ['--data-dir <dir>', 'the hub\'s data directory (default: HES_GATE_DATA_DIR or the configuration\'s dataDir)'] as const;
  vehicle
    .command('keygen')
    .description('write the list key and the list-signing key (mode 0600, never overwritten); print the public key for vehicle.publicKey')
    .requiredOption('--list-key <file>', 'where to write the list key file (vehicles.listKeyFile)')
    .requiredOption('--signing-key <file>', 'where to write the Ed25519 signing key (vehicles.signingKeyFile)')
    .option('--kid <id>', 'the list key\'s id: 1–16 lower-case letters, digits or dashes (default: vl- and 6 random hex digits)')
    .action((opts: { listKey: string; signingKey: string; kid?: string }) => run(() => vehicleKeygen(opts))());
  vehicle
    .command('add <id>')
    .description('register a vehicle and print its fetch token once (or write it to --token-file)')
    .option('--token-file <file>', 'write the token to this new file (mode 0600) instead of printing it')
    .option('--replace', 'give a registered (or revoked) vehicle a new token; the old one stops working')
    .option(...dataDir)
    .action((id: string, opts: VehicleCliOptions & { tokenFile?: string; replace?: boolean }) => run(() => vehicleAdd(id, opts))());
  vehicle
    .command('revoke <id>')
    .description('revoke a vehicle\'s token: the running hub refuses it within a second')
    .option(...dataDir)
    .action((id: string, opts: VehicleCliOptions) => run(() => vehicleRevoke(id, opts))());
  vehicle
    .command('list')
    .description('the registered vehicles and their last uploads')
    .option('--json', 'print JSON')
    .option(...dataDir)
    .action((opts: VehicleCliOptions & { json?: boolean }) => run(() => vehicleList(opts))());
}
