/**
 * Why a vehicle did not take a head or a file. Not a HesGateError: a refusal is an answer about
 * what arrived, which the vehicle counts by reason (`hes_gate_vehicle_list_refused_total`) and
 * survives by keeping the version it holds; no API client ever sees it.
 */
import type { RefusalReason } from './types.js';

export class ListRefused extends Error {
  override readonly name = 'ListRefused';

  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(`${reason}: ${message}`);
  }
}
