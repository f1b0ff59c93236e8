/**
 * The configuration: one schema with defaults, the single description of every setting.
 * `load.ts` layers a file and `HES_GATE_*` variables over these defaults, validates once,
 * and freezes the result. Nothing else in hes-gate reads `process.env`.
 */
import type { GatePolicy } from '../policy/types.js';
import type { Secret } from './sensitive-value.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface GateConfig {
  id: string;
  /** Gates of one group share second-tap refusal (for example one station entrance). @default the gate id */
  group: string;
  policy: GatePolicy;
  /** Serial card or QR readers of this gate (see docs/devices.md). `reader` in the file is a list of one. */
  readers: ReaderConfig[];
  /** The gate controller (relay board or text protocol) this gate's commands go to. @default null */
  controller: ControllerConfig | null;
}

export interface ReaderConfig {
  /** Unique across the station. @default `<gate>/reader`, or `<gate>/reader-<n>` for several */
  id: string;
  /** Port path; prefer stable ones (`/dev/serial/by-id/…`), which survive re-plugging. */
  path: string;
  /** Reader profile name (file name in `devices/` without `.json`). */
  profile: string;
}

export interface ControllerConfig {
  /** Port path. Several gates may share one controller port (one RS-485 bus / relay board). */
  path: string;
  /** Gate profile name. */
  profile: string;
  /** Modbus unit id (1–247); overrides the profile's. */
  unit?: number;
  /** Modbus coil that opens this gate; overrides the profile's `open.coil`. */
  openCoil?: number;
  /** Modbus coil that shows a deny; overrides the profile's `deny.coil`. */
  denyCoil?: number;
  /** Text protocols: fills `{passage}` in commands (e.g. "A" or "B"). @default "A" */
  passage?: string;
}

export interface Config {
  /** Which ministry environment this configuration speaks to. @default 'simulator' */
  environment: 'simulator' | 'test' | 'live';
  server: {
    /** @default '127.0.0.1' */
    host: string;
    /** @default 8080 */
    port: number;
    /** Largest decision or admin request body, in bytes. @default 8192 */
    bodyLimitBytes: number;
    /** Bearer token for `POST /v1/decisions` (env/secret file only). Unset = no token required. */
    apiToken: Secret | null;
    /** Bearer token for the card admin API (env/secret file only). Unset = admin API disabled. */
    adminToken: Secret | null;
    /**
     * Let `serve` listen on an address other than loopback without the API and admin tokens
     * (HES_GATE_ALLOW_UNAUTHENTICATED=1). Only for a network no one else can reach. @default false
     */
    allowUnauthenticated: boolean;
  };
  ministry: {
    /** Base URL including the environment's path prefix; null = the embedded simulator. */
    baseUrl: string | null;
    /** Ministry user name (for example `ORG-TEST`); from the file or HES_GATE_MINISTRY_USER. */
    user: string | null;
    /** Ministry password: HES_GATE_MINISTRY_PASSWORD or HES_GATE_MINISTRY_PASSWORD_FILE only. */
    password: Secret | null;
    /** Pooled keep-alive connections to the ministry. @default 8 */
    connections: number;
    /** @default 1000 */
    connectTimeoutMs: number;
    /** @default 2000 */
    headersTimeoutMs: number;
    /** @default 2000 */
    bodyTimeoutMs: number;
    /** Extra CA certificate file (PEM) to trust, for a TLS-intercepting proxy or the simulator's test cert. */
    caFile: string | null;
  };
  /** The circuit breaker and retries around the ministry (see src/ministry/guard.ts). */
  resilience: {
    /** Consecutive failures that open the circuit. @default 5 */
    consecutiveFailures: number;
    /** Failure share over the window that opens it. @default 0.5 */
    failureRate: number;
    /** Calls in a 10 s window before the share counts. @default 20 */
    minimumCalls: number;
    /** First ejection time; doubles per consecutive ejection. @default 1000 */
    baseEjectionMs: number;
    /** @default 30000 */
    maxEjectionMs: number;
    /** Retries of one single-code call (connection reset, 5xx), inside the call's time. @default 1 */
    maxRetries: number;
    /** Calls in flight beyond which new calls fail fast (HG_MINISTRY_BUSY). @default 64 */
    maxInFlight: number;
  };
  simulator: {
    /** Host of the embedded simulator (used when ministry.baseUrl is null). @default '127.0.0.1' */
    host: string;
    /** Port of the embedded simulator; 0 = any free port. @default 0 */
    port: number;
    /** JSON file of sample codes; null = the bundled set. */
    codesFile: string | null;
    /** Bearer token for the embedded simulator's control API (env/secret file only). Unset = control API off. */
    controlToken: Secret | null;
  };
  cache: {
    /** @default 600000 (10 min) */ risklessTtlMs: number;
    /** @default 21600000 (6 h) */ riskyTtlMs: number;
    /** @default 60000 */ notFoundTtlMs: number;
    /** @default 3600000 */ expiredTtlMs: number;
    /** How long any status is kept for last-known decisions. @default 86400000 (24 h) */ lastKnownMaxAgeMs: number;
    /** @default 1000000 */ maxEntries: number;
  };
  gates: {
    /** Policy of every gate unless the gate overrides a field. */
    defaults: GatePolicy;
    /** Refuse decisions for gate ids not listed in `gates.list`. @default false */
    requireKnown: boolean;
    list: GateConfig[];
  };
  refresher: {
    /** Keep bound codes fresh in the background. @default true */
    enabled: boolean;
    /** Budget of bulk ministry calls per second. @default 1 */
    callsPerSecond: number;
    /** Back-off after a failed bulk call, first step and cap, in ms. @default 2000 / 300000 */
    backoffInitialMs: number;
    backoffMaxMs: number;
  };
  /** What a slow, hostile or overwhelming client can hold (see docs/overload.md). */
  limits: {
    /** The whole request (headers and body) must arrive within this, ms. @default 10000 */
    requestTimeoutMs: number;
    /** The request line and headers must arrive within this, ms; at most requestTimeoutMs. @default 5000 */
    headersTimeoutMs: number;
    /** A connection with no traffic for this long is closed, ms. @default 60000 */
    idleTimeoutMs: number;
    /** Connections beyond this are closed at once. @default 1024 */
    maxConnections: number;
    /** Connections one client address (an IPv6 /64) may hold; more get 503 HG_TOO_MANY_CONNECTIONS. Loopback is not limited. @default 64 */
    maxConnectionsPerAddress: number;
    /** Largest request line plus headers, bytes (431 beyond). @default 8192 */
    maxHeaderBytes: number;
    /** Decisions that would wait for the ministry are shed (503 HG_OVERLOADED) while the event loop lags more than this, ms. @default 10 */
    maxEventLoopDelayMs: number;
    /** Decisions that would wait for the ministry are shed while the event loop is busy more than this share of the time (0.05–1; 1 never sheds for it). @default 0.6 */
    maxEventLoopUtilization: number;
    /** Decisions are shed while this many are already waiting for a status. @default 256 */
    maxDecisionsInFlight: number;
  };
  /** Where the binding store and persisted statuses live. @default './data' */
  dataDir: string;
  /** This station's id: the `station` field of every log line and journal export. @default the host name */
  stationId: string;
  /** The decision journal (SQLite in `dataDir`, written off the tap path in batches). */
  journal: {
    /** Record every decision (never a code, card id or QR content). @default true */
    enabled: boolean;
    /** Records older than this many days are deleted. @default 30 */
    retentionDays: number;
    /** The journal file's size cap in bytes; the oldest records go first. @default 536870912 (512 MiB) */
    maxBytes: number;
    /** How often buffered records are committed: at most this much is lost in a crash. @default 250 */
    flushIntervalMs: number;
  };
  /** Directory of device profiles. @default the package's `devices/` */
  devicesDir: string | null;
  /** The city tier (docs/city.md): stations share one city's bindings and statuses through Redis. */
  city: {
    /**
     * `standalone`: no Redis, this station alone (the quick start). `station`: decides from a local
     * replica of the city's bindings and statuses. `hub`: the city's card registry; one hub at a
     * time (the refresher lease holder) refreshes every bound code. `vehicle`: a validator's
     * computer on a bus or ferry: no Redis, no city key, no node key; card taps are decided from
     * the signed card list it fetches from a hub (section `vehicle`, docs/vehicles.md). @default 'standalone'
     */
    role: 'standalone' | 'station' | 'hub' | 'vehicle';
    /** redis:// or rediss:// (TLS) address of the city's Redis; unused when `sentinels` are set. @default null */
    redisUrl: string | null;
    /** Redis ACL user of this role (for example `hes-gate-station`). @default null (the default user) */
    redisUser: string | null;
    /** Its password: HES_GATE_CITY_REDIS_PASSWORD or HES_GATE_CITY_REDIS_PASSWORD_FILE only. */
    redisPassword: Secret | null;
    /** Sentinels ("host:port") that name the current primary; when set, they replace `redisUrl`'s host. @default [] */
    sentinels: string[];
    /** The primary's name at the Sentinels. @default 'hes-gate' */
    sentinelName: string;
    /** The city key file (HMAC of keys, AES-256-GCM of values); required for station and hub. @default null */
    keyFile: string | null;
    /**
     * This node's own Ed25519 signing key (PKCS#8 PEM, mode 0600; `hes-gate city node keygen`):
     * it signs what this node writes to the city; its public key is registered at the hub
     * (`hes-gate city node add`). Required for station and hub. @default null
     */
    nodeKeyFile: string | null;
    /** CA of the Redis server's TLS certificate (rediss://). @default null (system CAs) */
    tlsCaFile: string | null;
    /** @default 2000 */
    connectTimeoutMs: number;
    /** How long the refresher lease lasts without renewal; a standby hub takes over after it. @default 10000 */
    leaseMs: number;
    /** How often a station or hub reports itself to the city. @default 5000 */
    heartbeatMs: number;
    /** Entries the change stream keeps; a station further behind resyncs from a snapshot. @default 1000000 */
    changesMaxLen: number;
    /** Entries the shared-lookup stream keeps. @default 100000 */
    lookupsMaxLen: number;
    /** Cap on the leader's bulk ministry calls per second, whatever the rotation needs. @default 10 */
    maxCallsPerSecond: number;
    /**
     * Redis replicas that must hold a hub's binding write before it is acknowledged (WAIT), so a
     * Sentinel failover cannot lose it. 0 = the primary's AOF only. Set 1 with a replica. @default 0
     */
    ackReplicas: number;
    /** How long a hub's binding write waits for the replicas and the hub's own record before 503 HG_CITY_NOT_DURABLE. @default 5000 */
    ackTimeoutMs: number;
    /** How often every node compares its copy of the bindings with the city's digests (and after every reconnect). @default 300000 */
    reconcileMs: number;
  };
  /**
   * A hub's side of vehicles (docs/vehicles.md): the signed card list buses and ferries decide
   * from offline, published as immutable snapshot and delta files. Only the hub holding the
   * refresher lease publishes.
   */
  vehicles: {
    /** Publish the vehicle list and serve vehicles (hub only). @default false */
    enabled: boolean;
    /** The list key file (`<kid>:<base64 of 32 bytes>`, mode 0600): cards are keyed by an HMAC under it. @default null */
    listKeyFile: string | null;
    /** The list-signing key (Ed25519 PKCS#8 PEM, mode 0600; `hes-gate vehicle keygen`). @default null */
    signingKeyFile: string | null;
    /** Where the list files are written (any static server may serve it). @default null (`<dataDir>/vehicle-lists`) */
    publishDir: string | null;
    /** A new version (a delta) at most this often, ms. @default 300000 */
    publishEveryMs: number;
    /** A snapshot at least this often, ms. @default 21600000 (6 h) */
    snapshotEveryMs: number;
    /** Snapshots kept (with the deltas after the oldest of them; 5 × 6 h: a vehicle offline for a day catches up by deltas); older files are removed. @default 5 */
    keepSnapshots: number;
    /** How long a `validUntil: null` holds after a version's issuedAt, ms; at least maxListAgeMs. @default 172800000 (48 h) */
    horizonMs: number;
    /** Vehicles' reported list age above this is alerted on (HesGateVehicleListStale), ms. @default 21600000 (6 h) */
    maxListAgeMs: number;
    /**
     * An optional push notice: after each version it publishes, the hub publishes a retained
     * `{"version":V,"issuedAt":ms}` (QoS 1) so vehicles poll the head at once. Best effort: a
     * broker that is down never holds publication back.
     */
    mqtt: {
      /** The broker: mqtt:// or mqtts:// (TLS, system CAs), no credentials in it. @default null (no notice) */
      url: string | null;
      /** @default 'hes-gate/vehicle-list' */
      topic: string;
      /** The broker user. @default null (anonymous) */
      user: string | null;
      /** Its password: HES_GATE_VEHICLES_MQTT_PASSWORD or HES_GATE_VEHICLES_MQTT_PASSWORD_FILE only. */
      password: Secret | null;
    };
  };
  /** On board a vehicle (`city.role: "vehicle"`, docs/vehicles.md): where its card list comes from and its journal goes. */
  vehicle: {
    /** The vehicle's id at the hub (its token is registered under it). @default null (the stationId) */
    id: string | null;
    /** The hub's `GET /v1/vehicle-list/head`. Required for the vehicle role. @default null */
    headUrl: string | null;
    /** Base URL of the list files (`<filesUrl>/<name>`): any static server or object store. @default null (the hub's `/v1/vehicle-list/files/`, beside headUrl) */
    filesUrl: string | null;
    /** File holding the vehicle's fetch token (HES_GATE_VEHICLE_TOKEN_FILE; `hes-gate vehicle add` writes it). Required for the vehicle role. @default null */
    tokenFile: string | null;
    /** The list key file (`<kid>:<base64 of 32 bytes>`, mode 0600): the hub's `vehicles.listKeyFile`. Required for the vehicle role. @default null */
    listKeyFile: string | null;
    /** The hub's list-signing public key (Ed25519, 32 bytes in base64; not a secret). Required for the vehicle role. @default null */
    publicKey: string | null;
    /** A list older than this (by the signed clock) no longer decides: the gate's outage policy does. @default 21600000 (6 h) */
    maxListAgeMs: number;
    /** How often the head is asked for (as often as the hub publishes: every poll costs the cellular link a request). @default 300000 */
    pollMs: number;
    /** The hub's `POST /v1/vehicles/reports`, where the journal is uploaded. @default null (beside headUrl: `/v1/vehicles/reports`) */
    uploadUrl: string | null;
    /** How often journal records are uploaded (when the link is up). @default 300000 */
    uploadEveryMs: number;
    /**
     * An optional push notice from the hub's broker: a notice of a version newer than the one
     * held makes the vehicle poll the head now (the same verified path; the notice is trusted for
     * nothing else). The regular poll stays as the fallback.
     */
    mqtt: {
      /** The broker: mqtt:// or mqtts:// (TLS, system CAs), no credentials in it. @default null (no notice) */
      url: string | null;
      /** @default 'hes-gate/vehicle-list' */
      topic: string;
      /** The broker user. @default null (anonymous) */
      user: string | null;
      /** Its password: HES_GATE_VEHICLE_MQTT_PASSWORD or HES_GATE_VEHICLE_MQTT_PASSWORD_FILE only. */
      password: Secret | null;
      /** Polls a flood of notices causes: at most one per this gap (more notices meanwhile are coalesced into one), ms. @default 10000 */
      minPollGapMs: number;
    };
  };
  log: {
    /** @default 'info' */
    level: LogLevel;
    /** One line per HTTP request (method, route pattern, status, ms). @default false */
    requests: boolean;
  };
}
