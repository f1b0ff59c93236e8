/**
 * Where the card admin API's writes go, by city role (src/http/routes/cards.ts takes one as its
 * `writer`; standalone passes none and writes to the local store as before):
 *
 *   hub      ─> the city's registry (Redis); the local store is a replica and learns the change
 *               from the change stream like every station. The operator's action is journaled
 *               here, in this node's admin journal, once Redis has it.
 *   station  ─> refused: HG_CITY_REPLICA (409), change bindings at a hub.
 *   vehicle  ─> refused the same way: it decides from the hub's signed list, not from bindings.
 *
 * The shape is the local store's (adminPut / adminDelete / importStream), so the route does not
 * branch on the role.
 */
import { DEFAULT_PROFILE, type BindingInput, type CardBinding } from '../../cards/binding.js';
import type { ImportReport } from '../../cards/import.js';
import type { StreamImportRequest } from '../../cards/station-store.js';
import type { AdminPutResult, JournalInput } from '../../cards/store-types.js';
import { HesGateError } from '../../errors.js';
import type { Clock } from '../../types.js';
import { importToRegistry } from './import.js';
import type { CityRegistry } from './registry.js';

export interface BindingWriter {
  adminPut(binding: BindingInput, who: string): Promise<AdminPutResult>;
  adminDelete(cardId: string, who: string): Promise<CardBinding | undefined>;
  importStream(source: AsyncIterable<Uint8Array>, request: StreamImportRequest): Promise<ImportReport>;
}

export interface HubWriterOptions {
  registry: Pick<CityRegistry, 'put' | 'remove' | 'putMany'>;
  /** This node's admin journal (the local store's). */
  journal: (entry: JournalInput) => Promise<void>;
  clock: Clock;
}

export function hubBindingWriter(o: HubWriterOptions): BindingWriter {
  return {
    async adminPut(input, who) {
      const b = { cardId: input.cardId, hesCode: input.hesCode, profile: input.profile ?? DEFAULT_PROFILE };
      const outcome = await o.registry.put(b);
      if (outcome !== 'unchanged') await o.journal({ who, action: outcome === 'created' ? 'bind' : 'rebind', cardId: b.cardId, hesCode: b.hesCode, detail: { profile: b.profile, city: true } });
      return { outcome, binding: { ...b, updatedAt: o.clock() } };
    },
    async adminDelete(cardId, who) {
      const removed = await o.registry.remove(cardId);
      if (removed === undefined) return undefined;
      await o.journal({ who, action: 'unbind', cardId: removed.cardId, hesCode: removed.hesCode, detail: { city: true } });
      return { ...removed, updatedAt: o.clock() };
    },
    importStream(source, request) {
      return importToRegistry(source, {
        registry: o.registry,
        format: request.format,
        journal: o.journal,
        ...(request.journalAs === undefined ? {} : { journalAs: request.journalAs }),
      });
    },
  };
}

/** Why a node that is not a hub refuses binding writes. */
export function replicaRefusal(role: 'station' | 'vehicle'): HesGateError {
  return new HesGateError(
    'HG_CITY_REPLICA',
    role === 'station'
      ? 'this station is a replica of its city (city.role station): change bindings at a hub'
      : 'this vehicle decides card taps from the signed list its hub publishes (city.role vehicle): change bindings at a hub',
  );
}

/** A station's (or a vehicle's) writer: every write refused, naming where bindings change. */
export function replicaBindingWriter(role: 'station' | 'vehicle' = 'station'): BindingWriter {
  const refuse = (): never => {
    throw replicaRefusal(role);
  };
  return {
    adminPut: async () => refuse(),
    adminDelete: async () => refuse(),
    importStream: async () => refuse(),
  };
}
