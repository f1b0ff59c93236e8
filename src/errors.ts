/**
 * Every error hes-gate raises, in one list, each with a stable code. Callers and tests match
 * on `err.code`; the README's "Error codes" table is checked against this list by a test.
 *
 * Messages never contain a full HES code, QR payload, card id or credential: callers pass
 * masked values only.
 */

export interface ErrorSpec {
  /** HTTP status when the error reaches an API client; 500 for internal ones. */
  status: number;
  /** One line for operators: what happened and what was expected. */
  description: string;
}

export const ERRORS = {
  // Requests to the HTTP API
  HG_BAD_REQUEST: { status: 400, description: 'The request body does not match the schema; the message says which field and what was expected.' },
  HG_BODY_TOO_LARGE: { status: 413, description: 'The request body is larger than server.bodyLimitBytes.' },
  HG_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The request body must be application/json.' },
  HG_UNAUTHORIZED: { status: 401, description: 'A bearer token is required and was missing or wrong.' },
  HG_NOT_FOUND: { status: 404, description: 'No such route or resource.' },
  HG_GATE_UNKNOWN: { status: 422, description: 'The gate is not configured and gates.requireKnown is true.' },
  HG_CARD_ID_INVALID: { status: 400, description: 'A card id must be 4 to 20 bytes of hexadecimal (separators allowed).' },
  HG_HES_CODE_INVALID: { status: 400, description: 'A HES code must be 10 letters or digits (dashes and spaces allowed).' },
  HG_NOT_READY: { status: 503, description: 'The service cannot decide yet (stores opening, or neither ministry nor fallback available).' },
  HG_INTERNAL: { status: 500, description: 'An unexpected internal error; the log has details.' },
  HG_OVERLOADED: { status: 503, description: 'The service is shedding decisions (event loop lagging or too many in flight, see limits.*); retry or apply the validator\'s offline rule.' },
  HG_URI_TOO_LONG: { status: 414, description: 'A path segment of the URL is longer than the router accepts.' },
  HG_HEADERS_TOO_LARGE: { status: 431, description: 'The request line and headers are larger than limits.maxHeaderBytes.' },
  HG_METHOD_NOT_ALLOWED: { status: 405, description: 'CONNECT is not answered: hes-gate is not a proxy (Allow lists the methods it answers).' },
  HG_EXPECTATION_FAILED: { status: 417, description: 'The request\'s Expect header asks for something other than 100-continue.' },
  HG_TOO_MANY_CONNECTIONS: { status: 503, description: 'The client\'s address already holds limits.maxConnectionsPerAddress connections; the new one is answered and closed (reuse a keep-alive connection).' },
  HG_REQUEST_TIMEOUT: { status: 408, description: 'The request\'s headers or body did not arrive within limits.headersTimeoutMs / limits.requestTimeoutMs.' },

  // Configuration and device profiles
  HG_CONFIG_INVALID: { status: 500, description: 'A configuration value is invalid; the message names the key and what was expected.' },
  HG_CONFIG_FILE: { status: 500, description: 'A configuration or secret file could not be read or is not valid JSON.' },
  HG_PROFILE_INVALID: { status: 500, description: 'A device profile is invalid; the message names the file, the key and what was expected.' },

  // Start-up (hes-gate serve refuses to start; config check reports the same)
  HG_EXPOSED_WITHOUT_TOKEN: { status: 500, description: 'server.host is reachable from other machines but HES_GATE_API_TOKEN or HES_GATE_ADMIN_TOKEN is not set (override: HES_GATE_ALLOW_UNAUTHENTICATED=1).' },
  HG_CREDENTIALS_MISSING: { status: 500, description: 'The ministry\'s test or live environment is configured without HES_GATE_MINISTRY_USER or the password (HES_GATE_MINISTRY_PASSWORD_FILE).' },
  HG_DATA_DIR: { status: 500, description: 'The data directory cannot be used: permission denied (the message names the path and user), a file in its place, or a special file system.' },
  HG_INSTALL: { status: 500, description: 'A file the package must ship is missing (the live page in src/http/live/): the installation is incomplete; reinstall the package or image.' },
  HG_TOKEN_WEAK: { status: 500, description: 'A bearer token (HES_GATE_API_TOKEN, HES_GATE_ADMIN_TOKEN, HES_GATE_SIMULATOR_TOKEN) is shorter than 16 characters, has fewer than 6 different ones or a character outside printable ASCII, or the admin token equals the API token.' },
  HG_LISTEN: { status: 500, description: 'The service cannot listen: the port is in use, the address is not this machine\'s or does not resolve, or a port below 1024 needs privileges.' },

  // The ministry's service
  HG_MINISTRY_AUTH: { status: 502, description: 'The ministry refused the credentials (401/403): check the user name and password for this environment.' },
  HG_MINISTRY_RATE_LIMITED: { status: 502, description: 'The ministry answered 429; calls pause for its Retry-After.' },
  HG_MINISTRY_SERVER_ERROR: { status: 502, description: 'The ministry answered with a 5xx status.' },
  HG_MINISTRY_HTTP_STATUS: { status: 502, description: 'The ministry answered with an unexpected HTTP status (for example 404: wrong base URL).' },
  HG_MINISTRY_BAD_RESPONSE: { status: 502, description: 'The ministry\'s body was not JSON or not the expected shape.' },
  HG_MINISTRY_UNKNOWN_STATUS: { status: 502, description: 'The ministry returned a health status other than RISKLESS or RISKY; never treated as riskless.' },
  HG_MINISTRY_UNKNOWN_ERROR: { status: 502, description: 'The ministry returned an errorKey hes-gate does not know.' },
  HG_MINISTRY_TIMEOUT: { status: 504, description: 'Connecting to the ministry, or waiting for its headers or body, took longer than the configured timeout.' },
  HG_MINISTRY_CONNECTION: { status: 502, description: 'The connection to the ministry failed or was reset.' },
  HG_MINISTRY_BUSY: { status: 503, description: 'Too many ministry calls are already in flight (resilience.maxInFlight); new ones fail fast.' },
  HG_MINISTRY_CIRCUIT_OPEN: { status: 503, description: 'Calls to the ministry are paused after repeated failures; a probe will test recovery.' },

  // Card store and import
  // The city tier (docs/city.md)
  HG_CITY_KEY: { status: 500, description: 'The city key file is missing, unreadable or malformed (one "<key id>:<32 bytes base64>" per line; create with hes-gate city keygen).' },
  HG_CITY_UNAVAILABLE: { status: 503, description: 'The city\'s Redis cannot be reached or refused the command; a hub write was not made (retry). Stations keep deciding from their local replica.' },
  HG_CITY_NOT_DURABLE: { status: 503, description: 'A hub write reached the city\'s primary but not the replicas (city.ackReplicas) or this hub\'s record in time: it is not acknowledged. Retry: a repeated write is counted unchanged.' },
  HG_CITY_REPLICA: { status: 409, description: 'This station is a replica of the city (city.role station), or a vehicle deciding from its hub\'s list (city.role vehicle): change bindings at a hub.' },
  HG_CITY_NODE_KEY: { status: 500, description: 'The node signing key file (city.nodeKeyFile) is missing, unreadable or not an Ed25519 PKCS#8 PEM key (create with hes-gate city node keygen).' },
  HG_CITY_NODE: { status: 400, description: 'A city node command was given a bad node id, role or public key, or names a node the registry does not hold.' },
  HG_CITY_FENCED: { status: 503, description: 'A hub lost the refresher lease: its write was refused by the fencing token and it stands by.' },
  // Vehicles (docs/vehicles.md)
  HG_VEHICLE_REVOKED: { status: 403, description: 'The vehicle\'s fetch token was revoked at the hub (hes-gate vehicle revoke): no new list head, file or upload is accepted from it.' },
  HG_RANGE_NOT_SATISFIABLE: { status: 416, description: 'A list file was asked for with a Range outside it (Content-Range names its size).' },
  HG_VEHICLE: { status: 400, description: 'A vehicle command was given a bad vehicle id, names a vehicle the registry does not hold (or already holds), or runs where there is no hub store.' },
  HG_STORE: { status: 503, description: 'The binding store (SQLite) failed or is locked by another process past its busy timeout; nothing was written, retry later.' },
  HG_JOURNAL: { status: 503, description: 'The decision journal is disabled (journal.enabled) or its file failed; decisions go on unrecorded.' },
  HG_IMPORT_FILE: { status: 400, description: 'An import file could not be read or its format is unknown.' },
  HG_STORE_IN_USE: { status: 500, description: 'The card store is open in another process (a running station, an import): stop it before restoring.' },
  HG_STORE_FOREIGN: { status: 500, description: 'The file is not a hes-gate card store: not an SQLite database, or without hes-gate\'s tables.' },
  HG_STORE_CORRUPT: { status: 500, description: 'SQLite\'s integrity check found damage in the card store or backup file.' },
  HG_STORE_NEWER: { status: 500, description: 'The store or backup has a newer schema version than this build knows: install the newer hes-gate first.' },

  // Serial devices
  HG_DEVICE: { status: 500, description: 'A serial device could not be opened or written.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class HesGateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra machine-readable detail (never secrets or full codes). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HesGateError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = options?.details;
  }
}

export function isHesGateError(err: unknown, code?: ErrorCode): err is HesGateError {
  return err instanceof HesGateError && (code === undefined || err.code === code);
}
