/**
 * The validated, frozen configuration KeyWarden runs with: app settings (from the environment, read
 * only by src/lib/config) and the policy document (JSON, validated with zod).
 */

import type { Secret } from "./secret.js";

export type CloudName = "AzurePublicCloud" | "AzureChinaCloud" | "AzureUSGovernment" | "Custom" | "Emulator";

export interface CloudEndpoints {
  name: CloudName;
  /** ARM endpoint, e.g. https://management.azure.com */
  resourceManager: string;
  /** Token audience for ARM, e.g. https://management.azure.com (scope = audience + "/.default"). */
  resourceManagerAudience: string;
  /** Entra ID authority host, e.g. https://login.microsoftonline.com */
  authorityHost: string;
  /** DNS suffix of Managed HSM data planes, e.g. managedhsm.azure.net */
  managedHsmDnsSuffix: string;
}

/** Present only when KeyWarden talks to the built-in Azure emulator instead of Azure. */
export interface EmulatorSettings {
  /** https://127.0.0.1:<port> — serves ARM and, by Host header, every HSM data plane. */
  endpoint: string;
  /** PEM of the emulator's CA, trusted through the clients' TLS options (never by disabling TLS checks). */
  caPem: string;
  /** Object id the static emulator token carries; the emulated HSM RBAC authorises it. */
  principalId: string;
}

export interface RetrySettings {
  maxRetries: number;
  retryDelayInMs: number;
  maxRetryDelayInMs: number;
}

/** How long Azure calls may take and how many run at once (src/lib/azure/requests.ts applies them). */
export interface RequestSettings {
  /** One try of one HTTP request: KEYWARDEN_TRY_TIMEOUT_MS. */
  tryTimeoutMs: number;
  /** A whole scan (every call and retry in it) unless the caller sets a shorter one: KEYWARDEN_DEADLINE_MS. */
  deadlineMs: number;
  /** HTTP requests in flight at once, across every client in the process: KEYWARDEN_MAX_CONCURRENCY. */
  maxConcurrency: number;
}

/** How many consumer steps a rotation run has in flight at once (each waits on its long-running operation's polls). */
export interface RotationConcurrency {
  /** In the whole run: KEYWARDEN_ROTATION_CONCURRENCY. */
  overall: number;
  /** In one subscription (ARM's write budget is per subscription and principal): KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY. */
  perSubscription: number;
}

/**
 * `file`: KEYWARDEN_POLICY_FILE, read by loadConfig (a relative path from the caller's base directory: the
 * function app's root in Azure, the working directory in the CLI). `inline`: KEYWARDEN_POLICY_JSON, whose text is
 * carried here because only src/lib/config/settings.ts reads the environment. `store`: KEYWARDEN_POLICY_BLOB, a
 * blob in the state store, read afresh for every invocation so that the policy can change without a redeployment.
 */
export type PolicySource = { kind: "file"; path: string } | { kind: "inline"; json: string } | { kind: "store"; name: string };

/**
 * Where the state store (locks, the run journal) lives: KEYWARDEN_STATE_DIR (the default, .keywarden/state),
 * KEYWARDEN_STATE_BLOB_URL (a container, reached with the app's Entra identity) or
 * KEYWARDEN_STATE_BLOB_CONNECTION_STRING with KEYWARDEN_STATE_CONTAINER (Azurite and development).
 */
export type StateStoreSettings =
  | { kind: "directory"; /** Absolute. */ path: string }
  | { kind: "blob"; /** https://<account>.blob.core.windows.net/<container>, no query. */ containerUrl: string }
  | { kind: "blobConnectionString"; connectionString: Secret; container: string };

/** KEYWARDEN_EVENTS_*: the Event Grid custom topic KeyWarden publishes its events to. */
export interface EventsSettings {
  /** https://<topic>.<region>-1.eventgrid.azure.net/api/events */
  topicEndpoint: string;
  /** The topic's input schema. */
  schema: "EventGridSchema" | "CloudEventSchemaV1_0";
  /** Only against the emulator; in Azure the managed identity publishes. */
  topicKey?: Secret;
}

/** KEYWARDEN_MONITOR_*: where alert rows go (Azure Monitor Logs Ingestion). */
export interface MonitorSettings {
  /** https://<dce>.<region>-1.ingest.monitor.azure.com (a data collection endpoint, or the rule's logs ingestion endpoint). */
  ingestionEndpoint: string;
  /** The rule's immutable id, dcr-<32 hex>. */
  ruleId: string;
}

export interface AppSettings {
  cloud: CloudEndpoints;
  emulator?: EmulatorSettings;
  /** Client id of a user-assigned managed identity for DefaultAzureCredential, if any. */
  managedIdentityClientId?: string;
  /**
   * KEYWARDEN_PRINCIPAL_ID: the object id of KeyWarden's own identity (the function app's managed identity), to which
   * `keywarden setup-roles` assigns the Managed HSM roles. Not the client id.
   */
  principalId?: string;
  /** Where the policy document comes from (a file path, inline JSON in an app setting, or a blob in the state store). */
  policySource: PolicySource;
  /** NCRONTAB schedules (Azure Functions timer syntax, six fields). */
  schedules: { scan: string; rotation: string };
  retry: RetrySettings;
  requests: RequestSettings;
  /** Poll interval for long-running ARM operations. */
  lroPollIntervalMs: number;
  /** Consumer steps a rotation run has in flight at once. */
  rotationConcurrency: RotationConcurrency;
  stateStore: StateStoreSettings;
  /**
   * KEYWARDEN_ROTATION_MODE: what the rotation timer does. `plan` (the default) proposes and logs the plan;
   * `execute` carries it out. The service proposes until someone opts in.
   */
  rotationMode: "plan" | "execute";
  /** Absent: KeyWarden publishes no events. */
  events?: EventsSettings;
  /** Absent: alert rows go to the function log only. */
  monitor?: MonitorSettings;
  /** KEYWARDEN_HISTORY_RETENTION_DAYS: stored scans older than this many days are deleted (the newest is always kept). */
  historyRetentionDays: number;
}

export type ConsumerKind = "sqlManagedInstance" | "diskEncryptionSet" | "storageAccount";

export interface IsoDuration {
  /** As written in the policy, e.g. "P90D". */
  iso: string;
  /** Length in days (Y = 365, M = 30, W = 7; hours and below as fractions). */
  days: number;
}

export interface KeyRotationPolicy {
  /** Rotate this long after a version is created (Managed HSM: at least 28 days). */
  rotateAfter: IsoDuration;
  /** Each version expires this long after creation (the cryptoperiod). */
  expireAfter: IsoDuration;
  /** Raise a near-expiry alert this long before expiry. */
  notifyBefore: IsoDuration;
}

export interface KeyPolicy {
  name: string;
  keyType: "RSA-HSM" | "EC-HSM" | "oct-HSM";
  /** Minimum key size in bits (RSA) — defaults to thresholds.minRsaKeySize. */
  minKeySize: number;
  /** Which kinds of consumers are expected to use this key. */
  consumers: ConsumerKind[];
  rotation: KeyRotationPolicy;
  /**
   * ARM ids of resources that must use this key. The collector keeps them in the snapshot even when
   * they point elsewhere, so a switch to another key (or back to platform keys) is seen.
   */
  expectedConsumers: string[];
}

export interface PrincipalRef {
  principalId: string;
  displayName?: string;
}

export interface ManagedHsmPolicy {
  /** ARM resource id of the Managed HSM. */
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  regions: { primary: string; extended: string[] };
  keys: KeyPolicy[];
  /** Principals that manage keys: expected to hold Managed HSM Crypto User. */
  keyManagementPrincipals: PrincipalRef[];
  /** Principals that administer the HSM (security officers): expected to hold Managed HSM Administrator. */
  administratorPrincipals: PrincipalRef[];
  /** Any other principal allowed key access (e.g. KeyWarden's own identity, auditors). */
  otherExpectedPrincipals: PrincipalRef[];
  /**
   * Whether the HSM may have AllowKeyManagementOperationsThroughARM on (principals with ARM roles then manage its
   * keys outside its local RBAC). Default false: the setting on is a finding (hsm_arm_key_management_disabled).
   */
  allowKeyManagementThroughArm: boolean;
}

export interface ComplianceThresholds {
  softDeleteRetentionMinDays: number;
  keyExpiryWarningDays: number;
  keyExpiryCriticalDays: number;
  minRsaKeySize: number;
  /** Managed HSM caps a key at 100 versions. */
  maxKeyVersions: number;
  /** Warn when fewer than this many versions remain before the cap. */
  keyVersionHeadroom: number;
  /** Storage picks up a new version within 24 hours of a rotation. */
  storageCatchUpHours: number;
  allowedDiskEncryptionTypes: string[];
  /** The HSM's newest AuditEvent in its workspace must be at most this old. */
  auditEventMaxAgeHours: number;
  /** Denied requests and metrics are read over this many hours before the scan. */
  signalsWindowHours: number;
  /** The HSM's Availability metric: its average and its minimum over the window must reach this (percent). */
  availabilityMinPercent: number;
  /** The HSM's ServiceApiLatency metric: its average over the window must not exceed this (milliseconds). */
  serviceApiLatencyMaxMs: number;
  /** A key whose version cap, at its rotation cadence, is reached within this many days is a finding (keys_rotation_forecast). */
  versionCapForecastDays: number;
}

export interface PolicyDocument {
  version: 1;
  /** Subscriptions in which consumers are discovered. */
  subscriptions: string[];
  managedHsms: ManagedHsmPolicy[];
  thresholds: ComplianceThresholds;
}

export interface KeyWardenConfig {
  settings: AppSettings;
  policy: PolicyDocument;
  /** Which document this is, for logs, the journal and the evidence: where it came from and its digest. */
  policyOrigin: PolicyOrigin;
}

/** Where the policy document was read from (never its text: KEYWARDEN_POLICY_JSON is a secret setting). */
export interface PolicyOrigin {
  setting: "KEYWARDEN_POLICY_FILE" | "KEYWARDEN_POLICY_JSON" | "KEYWARDEN_POLICY_BLOB";
  /** The file path as read, or the blob's name in the state store; absent for the inline setting. */
  location?: string;
  /** SHA-256 of the document's bytes as read (UTF-8), lower-case hex. */
  sha256: string;
  /** The blob's ETag when it came from the state store. */
  etag?: string;
}
