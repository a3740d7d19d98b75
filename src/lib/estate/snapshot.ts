/**
 * The estate snapshot: plain, versioned JSON collected once through the Azure SDKs.
 * Compliance controls and the rotation planner are pure functions over it.
 *
 * Conventions
 * - A part that could not be read is `null` and has a matching entry in `errors` (same `part`, and
 *   `about` naming it), so that checks report UNKNOWN, never a false PASS. An empty array means
 *   "read, and there is none".
 * - Consumer lists are read per subscription. Each list holds what every readable subscription
 *   returned; a subscription whose list could not be read has an error (`about` names the
 *   subscription), so one failed subscription leaves the others' consumers known.
 * - Times are ISO-8601 strings (UTC). Durations are ISO-8601 durations as Azure returns them.
 * - Resource ids keep Azure's spelling; compare them case-insensitively (`sameResourceId`).
 */

/** 2: consumer lists per subscription (never null) and typed `about` references on collection errors. */
export const SNAPSHOT_SCHEMA_VERSION = 2 as const;

export interface EstateSnapshot {
  schemaVersion: typeof SNAPSHOT_SCHEMA_VERSION;
  /** When collection started (from the injected clock). */
  collectedAt: string;
  /** Cloud name the snapshot was collected from (AzurePublicCloud, AzureChinaCloud, AzureUSGovernment, Custom, Emulator). */
  cloud: string;
  /** Subscriptions that were searched for consumers. */
  subscriptions: string[];
  managedHsms: ManagedHsmSnapshot[];
  consumers: ConsumersSnapshot;
  errors: CollectionError[];
}

/** Which part of the snapshot a collection error leaves unknown. */
export type SnapshotPart =
  | "managedHsm"
  | "managedHsm.regions"
  | "managedHsm.privateEndpointConnections"
  | "managedHsm.privateEndpoint"
  | "managedHsm.diagnosticSettings"
  | "managedHsm.settings"
  | "keys"
  | "key"
  | "key.versions"
  | "key.rotationPolicy"
  | "rbac.roleDefinitions"
  | "rbac.roleAssignments"
  | "consumers.sqlManagedInstances"
  | "consumers.sqlManagedInstance.encryptionProtector"
  | "consumers.sqlManagedInstance.keys"
  | "consumers.sqlManagedInstance.failoverGroups"
  | "consumers.diskEncryptionSets"
  | "consumers.disks"
  | "consumers.virtualMachines"
  | "consumers.storageAccounts"
  | "managedHsm.auditEvents"
  | "managedHsm.deniedRequests"
  | "managedHsm.metrics";

/**
 * What a collection error is about, as a typed reference. `hsm` is the HSM's ARM resource id;
 * `subscription` a subscription id. Match with `refersTo` (estate/partRef.ts), never by string prefix.
 */
export type PartRef =
  | { kind: "managedHsm"; hsm: string }
  | { kind: "privateEndpoint"; hsm: string; privateEndpoint: string }
  | { kind: "key"; hsm: string; key: string }
  | { kind: "rbacScope"; hsm: string; scope: string }
  | { kind: "subscription"; subscription: string }
  | { kind: "consumer"; subscription: string; resource: string };

export interface CollectionError {
  part: SnapshotPart;
  about: PartRef;
  /** For people: the ARM resource id, key URL or HSM scope URL the failed read was about. */
  resourceId: string;
  /** The SDK call that failed, e.g. "managedHsms.get", "keys.getKeyRotationPolicy". */
  operation: string;
  statusCode?: number;
  /** Azure's error code (KeyNotFound, AuthorizationFailed, Forbidden, ...) or a Node error code. */
  code?: string;
  message: string;
}

export interface ManagedHsmSnapshot {
  resourceId: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** Primary region. */
  location?: string;
  /** Data-plane URI, e.g. https://contoso-prod-hsm.managedhsm.azure.net/ */
  hsmUri?: string;
  properties: ManagedHsmProperties | null;
  regions: ManagedHsmRegion[] | null;
  privateEndpointConnections: PrivateEndpointConnectionSnapshot[] | null;
  diagnosticSettings: DiagnosticSettingSnapshot[] | null;
  keys: KeySnapshot[] | null;
  roleDefinitions: RoleDefinitionSnapshot[] | null;
  roleAssignments: RoleAssignmentSnapshot[] | null;
  /** The HSM's own signals (audit events in its workspace, denied requests, metrics); absent: not collected. */
  signals?: HsmSignalsSnapshot;
  /**
   * The HSM's account settings (data-plane GET /settings). `null`: could not be read (a collection error says why);
   * absent: not collected (a snapshot written before this field existed).
   */
  settings?: HsmSettingSnapshot[] | null;
}

/**
 * What the HSM itself reports. Each part is null when its read failed (a collection error names the part);
 * `workspace` is null when the diagnostic settings could not be read, "none" when no setting sends AuditEvent
 * to a Log Analytics workspace (then nothing can be read from logs: auditEvents and deniedRequests are null too).
 */
export interface HsmSignalsSnapshot {
  workspace: { id: string; diagnosticSetting: string } | "none" | null;
  /** `windowHours`: each part covers the hours before `collectedAt`. */
  auditEvents: { windowHours: number; count: number; newestEventAt: string | null } | null;
  deniedRequests: { windowHours: number; groups: DeniedRequestGroup[]; truncated: boolean } | null;
  metrics: { windowHours: number; availability: MetricSummary; serviceApiLatency: MetricSummary } | null;
}

/** Requests the HSM answered 401 or 403, grouped by caller, caller IP, operation and status. */
export interface DeniedRequestGroup {
  /** The caller's Entra object id, application id and UPN, as the audit log names them (absent when it does not). */
  objectId?: string;
  appId?: string;
  upn?: string;
  callerIpAddress?: string;
  operation: string;
  statusCode: number;
  count: number;
  lastSeen: string;
}

/** A metric over the window: aggregates of its data points (null, with points 0, when it has none). */
export interface MetricSummary {
  average: number | null;
  minimum: number | null;
  maximum: number | null;
  points: number;
}

/** A Managed HSM account setting, e.g. AllowKeyManagementOperationsThroughARM = "false" (type "boolean"). */
export interface HsmSettingSnapshot {
  name: string;
  value: string;
  type?: string;
}

export interface ManagedHsmProperties {
  tenantId?: string;
  provisioningState?: string;
  enableSoftDelete?: boolean;
  softDeleteRetentionInDays?: number;
  enablePurgeProtection?: boolean;
  publicNetworkAccess?: string;
  networkAcls?: {
    bypass?: string;
    defaultAction?: string;
    ipRules: string[];
    virtualNetworkRules: string[];
    /**
     * Service-tag rules (ARM 2025-05-01 and later), by tag name: each admits that tag's public address ranges.
     * Absent: not collected (a snapshot written before this field existed).
     */
    serviceTags?: string[];
  };
  securityDomainActivationStatus?: string;
  initialAdminObjectIds: string[];
}

export interface ManagedHsmRegion {
  name: string;
  isPrimary: boolean;
  provisioningState?: string;
}

export interface PrivateEndpointConnectionSnapshot {
  id: string;
  privateEndpointId?: string;
  /** Pending | Approved | Rejected | Disconnected */
  status?: string;
  provisioningState?: string;
  /** Region of the private endpoint resource itself; null when it could not be read. */
  privateEndpointLocation: string | null;
}

export interface DiagnosticSettingSnapshot {
  id: string;
  name: string;
  workspaceId?: string;
  storageAccountId?: string;
  eventHubAuthorizationRuleId?: string;
  logs: { category?: string; categoryGroup?: string; enabled: boolean }[];
}

export interface KeySnapshot {
  name: string;
  /** Versionless key id: https://<hsm>/keys/<name> */
  id: string;
  /** Latest version (the one the HSM hands out for a versionless reference). */
  currentVersion?: string;
  keyType?: string;
  keySize?: number;
  keyOps: string[];
  enabled?: boolean;
  exportable?: boolean;
  hasReleasePolicy: boolean;
  createdOn?: string;
  updatedOn?: string;
  expiresOn?: string;
  notBefore?: string;
  recoveryLevel?: string;
  recoverableDays?: number;
  tags: Record<string, string>;
  versions: KeyVersionSnapshot[] | null;
  /** `null`: could not be read. A policy with no lifetime actions means none is set. */
  rotationPolicy: RotationPolicySnapshot | null;
}

export interface KeyVersionSnapshot {
  version: string;
  /** Versioned key id: https://<hsm>/keys/<name>/<version> */
  id: string;
  enabled?: boolean;
  createdOn?: string;
  updatedOn?: string;
  expiresOn?: string;
  notBefore?: string;
}

export interface RotationPolicySnapshot {
  /** ISO-8601 duration set on each new version as its expiry. */
  expiresIn?: string;
  lifetimeActions: {
    action: "Rotate" | "Notify";
    timeAfterCreate?: string;
    timeBeforeExpiry?: string;
  }[];
  createdOn?: string;
  updatedOn?: string;
}

export interface RoleDefinitionSnapshot {
  /** e.g. Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/<guid> */
  id: string;
  name: string;
  roleName?: string;
  /** AKVBuiltInRole | CustomRole */
  roleType?: string;
  assignableScopes: string[];
  permissions: {
    actions: string[];
    notActions: string[];
    dataActions: string[];
    notDataActions: string[];
  }[];
}

export interface RoleAssignmentSnapshot {
  id: string;
  name: string;
  /** "/", "/keys" or "/keys/<key name>" */
  scope: string;
  principalId: string;
  roleDefinitionId: string;
  /** Resolved from roleDefinitions when possible. */
  roleName?: string;
}

/**
 * Each list holds the consumers of every subscription whose list was read; a subscription whose list
 * could not be read has a collection error of that list's part about the subscription. VMs and disks
 * are in scope through the DES of their own subscription, so either list failing leaves that
 * subscription's VMs and disks unknown (errors of both parts are recorded).
 */
export interface ConsumersSnapshot {
  sqlManagedInstances: SqlManagedInstanceConsumer[];
  diskEncryptionSets: DiskEncryptionSetConsumer[];
  disks: DiskSnapshot[];
  virtualMachines: VirtualMachineSnapshot[];
  storageAccounts: StorageAccountConsumer[];
}

export type ConsumerListName = keyof ConsumersSnapshot;

/** The snapshot part recorded when a subscription's list could not be read. */
export const CONSUMER_LIST_PARTS = {
  sqlManagedInstances: "consumers.sqlManagedInstances",
  diskEncryptionSets: "consumers.diskEncryptionSets",
  disks: "consumers.disks",
  virtualMachines: "consumers.virtualMachines",
  storageAccounts: "consumers.storageAccounts",
} as const satisfies Record<ConsumerListName, SnapshotPart>;

/** A parsed reference to a Managed HSM key; `version` is null for a versionless reference. */
export interface KeyReference {
  /** Original URL as configured on the consumer. */
  url: string;
  /** Lower-cased host (with port, if any) of the HSM the key lives in. */
  host: string;
  keyName: string;
  version: string | null;
}

export interface ManagedIdentitySnapshot {
  /** SystemAssigned | UserAssigned | "SystemAssigned, UserAssigned" | None */
  type: string;
  principalId?: string;
  tenantId?: string;
  userAssignedIdentities: { resourceId: string; principalId?: string; clientId?: string }[];
}

interface ConsumerBase {
  resourceId: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  identity: ManagedIdentitySnapshot | null;
}

export interface SqlManagedInstanceConsumer extends ConsumerBase {
  kind: "sqlManagedInstance";
  primaryUserAssignedIdentityId?: string;
  encryptionProtector: {
    serverKeyName?: string;
    /** ServiceManaged | AzureKeyVault */
    serverKeyType?: string;
    uri?: string;
    keyReference: KeyReference | null;
    autoRotationEnabled?: boolean;
  } | null;
  keys: { name: string; serverKeyType?: string; uri?: string; creationDate?: string; autoRotationEnabled?: boolean }[] | null;
  /**
   * Instance failover groups the instance belongs to (read per resource group and region). `null`: could not be
   * read (a collection error says why); absent: not collected (a snapshot written before this field existed).
   * A rotation must give a geo-secondary the key before its primary's protector moves.
   */
  failoverGroups?: SqlFailoverGroupMembership[] | null;
  /** ARM provisioningState (Succeeded, Failed, ...). Absent: not reported, or a snapshot from before it was read. */
  provisioningState?: string;
  /** The instance's `state` (Ready, Inaccessible when it cannot reach its TDE protector, ...). Absent as above. */
  state?: string;
}

export interface SqlFailoverGroupMembership {
  /** ARM id of the instance failover group. */
  id: string;
  name: string;
  /** This instance's replication role in the group: Primary | Secondary. */
  role?: string;
  /** ARM ids of the other managed instances in the group. */
  partnerManagedInstanceIds: string[];
}

export interface DiskEncryptionSetConsumer extends ConsumerBase {
  kind: "diskEncryptionSet";
  encryptionType?: string;
  activeKeyUrl?: string;
  keyReference: KeyReference | null;
  previousKeyUrls: string[];
  rotationToLatestKeyVersionEnabled?: boolean;
  lastKeyRotationTimestamp?: string;
  autoKeyRotationError?: { code?: string; message?: string };
  provisioningState?: string;
}

export interface DiskSnapshot {
  resourceId: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  managedBy?: string;
  encryptionType?: string;
  diskEncryptionSetId?: string;
}

export interface VirtualMachineSnapshot {
  resourceId: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  disks: { role: "os" | "data"; lun?: number; diskId?: string; name?: string; diskEncryptionSetId?: string }[];
  /**
   * Replicated by Azure Site Recovery (its mobility service extension is on the VM). Absent: not known. A key
   * rotation on an ASR-protected VM's disks needs a maintenance window (replication may need re-enabling).
   */
  siteRecoveryProtected?: boolean;
}

export interface StorageAccountConsumer extends ConsumerBase {
  kind: "storageAccount";
  /** Microsoft.Keyvault | Microsoft.Storage */
  keySource?: string;
  keyVaultUri?: string;
  keyName?: string;
  /** undefined/empty: versionless (auto-rotating). */
  keyVersion?: string;
  keyReference: KeyReference | null;
  currentVersionedKeyIdentifier?: string;
  lastKeyRotationTimestamp?: string;
  /** The user-assigned identity used for encryption, when not the system-assigned one. */
  encryptionUserAssignedIdentity?: string;
  /** ARM provisioningState (Creating, ResolvingDNS, Succeeded). Absent: not reported, or a snapshot from before it was read. */
  provisioningState?: string;
  /**
   * When the key version the account uses expires (encryption.keyvaultproperties.currentVersionedKeyExpirationTimestamp):
   * once past, the account cannot unwrap its key. Absent as above, or the version has no expiry.
   */
  currentVersionedKeyExpirationTimestamp?: string;
}

export type Consumer = SqlManagedInstanceConsumer | DiskEncryptionSetConsumer | StorageAccountConsumer;
