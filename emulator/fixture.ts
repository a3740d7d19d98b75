/**
 * The compact fixture format: a domain description of an estate (HSMs, keys, RBAC, consumers) that the
 * backend materialises into ARM resources and key versions with real URLs.
 *
 * Times are ISO-8601 instants or signed offsets from the emulator clock at load ("-P200D", "+P5D").
 * Key references are strings `<hsm>/<key>` (versionless) or `<hsm>/<key>@<sel>`, where `<sel>` is `latest`,
 * a 0-based index into the key's `versions` (0 = oldest) or a 32-hex version id.
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ARM_BUILT_IN_ROLES, armRoleDefinitionsOf, findArmRole } from "./backend/armRbac.js";
import { isDuration, resolveTime } from "./duration.js";

const guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a GUID");
const time = z.string().refine((s) => resolveTime(s, new Date(0)) !== undefined, "must be an ISO instant or an offset like -P200D");
const duration = z.string().refine(isDuration, "must be an ISO-8601 duration like P1Y");
const name = z.string().min(1);
/** A consumer's, group's or HSM's own subscription; absent = the fixture's top-level subscriptionId. */
const subscriptionId = guid.optional();
const keyRef = z.string().regex(/^[^/@]+\/[^/@]+(@(latest|\d+|[0-9a-fA-F]{32}))?$/, "must be <hsm>/<key>[@latest|@<index>|@<version>]");
const identity = z.strictObject({
  type: z.enum(["SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None"]),
  principalId: guid.optional(),
  userAssignedIdentities: z.array(z.strictObject({ resourceId: z.string(), principalId: guid, clientId: guid })).optional(),
});

const keyVersion = z
  .strictObject({
    version: z.string().regex(/^[0-9a-f]{32}$/, "must be 32 lower-case hex digits").optional(),
    created: time,
    /** Absolute/relative expiry; or `validity` = created + duration. */
    expires: time.optional(),
    validity: duration.optional(),
    notBefore: time.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((v) => !(v.expires && v.validity), "give either expires or validity, not both");

const fixtureKey = z.strictObject({
  name: z.string().regex(/^[0-9a-zA-Z-]{1,127}$/, "must be 1-127 letters, digits or dashes"),
  kty: z.enum(["RSA-HSM", "RSA", "EC-HSM", "EC", "oct-HSM"]).default("RSA-HSM"),
  keySize: z.number().int().optional(),
  curve: z.enum(["P-256", "P-384", "P-521"]).optional(),
  keyOps: z.array(z.string()).default([]),
  exportable: z.boolean().default(false),
  tags: z.record(z.string(), z.string()).default({}),
  versions: z.array(keyVersion).min(1, "a key needs at least one version").max(100, "Managed HSM allows at most 100 versions per key"),
  rotationPolicy: z
    .strictObject({
      lifetimeActions: z.array(
        z.strictObject({ action: z.enum(["Rotate", "Notify"]), timeAfterCreate: duration.optional(), timeBeforeExpiry: duration.optional() }),
      ),
      expiryTime: duration.optional(),
    })
    .optional(),
});

const roleAssignment = z.strictObject({
  name: guid.optional(),
  principalId: guid,
  /** Built-in role name ("Managed HSM Crypto User") or role definition GUID. */
  role: z.string().min(1),
  scope: z.string().regex(/^\/(keys(\/[0-9a-zA-Z-]+)?)?$/, "must be /, /keys or /keys/<key name>"),
  description: z.string().optional(),
});

const managedHsm = z.strictObject({
  name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/, "must be 3-24 letters, digits or dashes"),
  subscriptionId,
  resourceGroup: name,
  location: name,
  sku: z.enum(["Standard_B1", "Custom_B32", "Custom_B6"]).default("Standard_B1"),
  tags: z.record(z.string(), z.string()).default({}),
  regions: z.array(z.strictObject({ name, isPrimary: z.boolean(), provisioningState: z.enum(["Preprovisioning", "Provisioning", "Succeeded", "Failed", "Deleting", "Cleanup"]).default("Succeeded") })).default([]),
  enableSoftDelete: z.boolean().default(true),
  softDeleteRetentionInDays: z.number().int().min(7).max(90).default(90),
  enablePurgeProtection: z.boolean().default(false),
  publicNetworkAccess: z.enum(["Enabled", "Disabled"]).default("Enabled"),
  networkAcls: z
    .strictObject({
      defaultAction: z.enum(["Allow", "Deny"]),
      bypass: z.enum(["AzureServices", "None"]),
      ipRules: z.array(z.string()).default([]),
      virtualNetworkRules: z.array(z.string()).default([]),
      /** Service-tag rules (ARM 2025-05-01+: networkAcls.serviceTags[].tag), e.g. "AzureCloud". */
      serviceTags: z.array(z.string()).default([]),
    })
    .optional(),
  securityDomainActivationStatus: z.enum(["Active", "NotActivated", "Unknown", "Failed"]).default("Active"),
  /** ARM provisioningState (ProvisioningState in managedHsm.json 2025-05-01). */
  provisioningState: z.enum(["Succeeded", "Provisioning", "Failed", "Updating", "Deleting", "Activated", "SecurityDomainRestore", "Restoring"]).default("Succeeded"),
  initialAdminObjectIds: z.array(guid).default([]),
  privateEndpoints: z
    .array(
      z.strictObject({
        name,
        /** Absent = the HSM's subscription. */
        subscriptionId,
        resourceGroup: name,
        location: name,
        status: z.enum(["Pending", "Approved", "Rejected", "Disconnected"]).default("Approved"),
        subnetId: z.string().optional(),
        privateIp: z.string().default("10.0.0.5"),
      }),
    )
    .default([]),
  diagnosticSettings: z
    .array(
      z.strictObject({
        name,
        workspaceId: z.string().optional(),
        storageAccountId: z.string().optional(),
        eventHubAuthorizationRuleId: z.string().optional(),
        logs: z.array(z.strictObject({ category: z.string().optional(), categoryGroup: z.string().optional(), enabled: z.boolean().default(true) })).default([]),
      }),
    )
    .default([]),
  keys: z.array(fixtureKey).default([]),
  roleAssignments: z.array(roleAssignment).default([]),
  /** AuditEvent rows the HSM logged before the emulator started (landed where its diagnostic settings send AuditEvent). */
  auditEvents: z
    .array(
      z.strictObject({
        time,
        operation: z.string().min(1),
        status: z.number().int().min(100).max(599).default(200),
        /** The caller's object id (absent: an unauthenticated request). */
        caller: guid.optional(),
        appId: guid.optional(),
        upn: z.string().optional(),
        callerIpAddress: z.string().optional(),
        count: z.number().int().min(1).max(1000).default(1),
      }),
    )
    .default([]),
  /** The HSM's metric baseline (every hour has these values unless a control endpoint seeds others). */
  metrics: z.strictObject({ availability: z.number().min(0).max(100).default(100), serviceApiLatencyMs: z.number().min(0).default(20) }).prefault({}),
  /** Custom role definitions (at "/"); an assignment names one by roleName or GUID like a built-in role. */
  customRoles: z
    .array(z.strictObject({ name: guid, roleName: z.string().min(1), dataActions: z.array(z.string().regex(/^Microsoft\.KeyVault\/managedHsm\//, "must be a Managed HSM data action")).min(1) }))
    .default([]),
  /** The account setting AllowKeyManagementOperationsThroughARM (GET /settings); Azure's default is false. */
  allowKeyManagementOperationsThroughArm: z.boolean().default(false),
});

const sqlManagedInstance = z.strictObject({
  name,
  subscriptionId,
  resourceGroup: name,
  location: name,
  identity: identity.optional(),
  /** Resource id of the user-assigned identity the instance uses for key access (one of identity.userAssignedIdentities). */
  primaryUserAssignedIdentityId: z.string().optional(),
  /** MI keys (TDE keys registered with the instance); named <hsm>_<key>_<version>. */
  keys: z.array(keyRef).default([]),
  encryptionProtector: z
    .strictObject({ key: keyRef.optional(), serverKeyType: z.enum(["AzureKeyVault", "ServiceManaged"]).default("AzureKeyVault"), autoRotationEnabled: z.boolean().default(false) })
    .optional(),
  /** ARM provisioningState (ManagedInstancePropertiesProvisioningState, ManagedInstances.json 2023-08-01). */
  provisioningState: z.enum(["Creating", "Deleting", "Updating", "Unknown", "Succeeded", "Failed", "Accepted", "Created", "Deleted", "Unrecognized", "Running", "Canceled", "NotSpecified", "Registering", "TimedOut"]).default("Succeeded"),
});

const diskEncryptionSet = z.strictObject({
  name,
  subscriptionId,
  resourceGroup: name,
  location: name,
  identity: identity.optional(),
  encryptionType: z.enum(["EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys", "ConfidentialVmEncryptedWithCustomerKey"]).default("EncryptionAtRestWithCustomerKey"),
  activeKey: keyRef,
  previousKeys: z.array(keyRef).default([]),
  rotationToLatestKeyVersionEnabled: z.boolean().default(false),
  lastKeyRotation: time.optional(),
  /** ARM provisioningState (a free string in diskEncryptionSet.json 2025-01-02). */
  provisioningState: z.enum(["Succeeded", "Failed", "Updating"]).default("Succeeded"),
  /**
   * An autoKeyRotationError DiskRP reports that the access model does not derive (e.g. a rotation that failed on DiskRP's
   * side); a DES that cannot use its key gets one from the model whatever this says.
   */
  autoKeyRotationError: z.strictObject({ code: z.string().min(1), message: z.string().min(1) }).optional(),
});

const virtualMachine = z.strictObject({
  name,
  subscriptionId,
  resourceGroup: name,
  location: name,
  osType: z.enum(["Windows", "Linux"]).default("Windows"),
  vmSize: z.string().default("Standard_D4s_v3"),
  /** Name of a disk encryption set in the same subscription and resource group, or its full resource id; absent = platform keys. */
  diskEncryptionSet: z.string().optional(),
  dataDisks: z.number().int().min(0).max(16).default(0),
  diskSizeGB: z.number().int().positive().default(128),
  /** Replicated by Azure Site Recovery: the VM carries ASR's mobility service extension (SiteRecovery-Windows|Linux). */
  siteRecovery: z.boolean().default(false),
  /** Other VM extensions (child resources listed in the VM's `resources`). */
  extensions: z
    .array(z.strictObject({ name, publisher: z.string().min(1), type: z.string().min(1), typeHandlerVersion: z.string().default("1.0") }))
    .default([]),
});

/** A managed instance by name (unique among the fixture's instances) or by its full ARM resource id. */
const managedInstanceRef = z.string().min(1);

const sqlFailoverGroup = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/, "must be 2-63 lower-case letters, digits or dashes"),
  /** The instance that is primary now; the group is listed in its resource group and region, and in the partner's. */
  primary: managedInstanceRef,
  /** The geo-secondary, in another region. */
  partner: managedInstanceRef,
  readWriteFailoverPolicy: z.enum(["Manual", "Automatic"]).default("Manual"),
  /** Required by Azure with `Automatic`; defaults to 60 then. */
  gracePeriodMinutes: z.number().int().positive().optional(),
  secondaryType: z.enum(["Geo", "Standby"]).optional(),
  replicationState: z.string().min(1).default("CATCH_UP"),
});

const storageAccount = z.strictObject({
  name: z.string().regex(/^[a-z0-9]{3,24}$/, "must be 3-24 lower-case letters or digits"),
  subscriptionId,
  resourceGroup: name,
  location: name,
  kind: z.enum(["StorageV2", "Storage", "BlobStorage", "FileStorage", "BlockBlobStorage"]).default("StorageV2"),
  sku: z.enum(["Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Standard_GZRS"]).default("Standard_LRS"),
  identity: identity.optional(),
  encryption: z.discriminatedUnion("keySource", [
    z.strictObject({ keySource: z.literal("Microsoft.Storage") }),
    z.strictObject({
      keySource: z.literal("Microsoft.Keyvault"),
      /** Versionless `<hsm>/<key>` auto-rotates; `@<sel>` pins a version. */
      key: keyRef,
      userAssignedIdentity: z.string().optional(),
      lastKeyRotation: time.optional(),
    }),
  ]),
});

/** Regions whose Event Grid host names (`*.<region>-1.eventgrid.azure.net`) the emulator's TLS certificate covers. */
export const EVENT_GRID_REGIONS = ["southindia", "centralindia", "westindia", "eastus", "westeurope", "northeurope"] as const;

const eventGridTopic = z.strictObject({
  /** Topic names are 3-50 letters, digits or dashes; the host label is the lower-cased name. */
  name: z.string().regex(/^[a-zA-Z0-9-]{3,50}$/, "must be 3-50 letters, digits or dashes"),
  subscriptionId,
  resourceGroup: name,
  location: z
    .string()
    .refine((l) => (EVENT_GRID_REGIONS as readonly string[]).includes(l.toLowerCase()), `must be one of the regions the emulator's certificate covers: ${EVENT_GRID_REGIONS.join(", ")}`),
  inputSchema: z.enum(["EventGridSchema", "CloudEventSchemaV1_0"]).default("EventGridSchema"),
  /** Access keys; absent = derived from the name (deterministic). */
  keys: z.strictObject({ key1: z.string().min(1), key2: z.string().min(1) }).optional(),
  /** true = only Microsoft Entra (bearer) publishing; the access keys are refused. */
  disableLocalAuth: z.boolean().default(false),
  /** Object ids allowed to publish with a bearer token (EventGrid Data Sender); absent = KeyWarden's principal if the fixture lists it. */
  dataSenders: z.array(guid).optional(),
});

/** Regions whose data collection endpoint hosts (`*.<region>-1.ingest.monitor.azure.com`) the certificate covers (Event Grid's list). */
export const INGESTION_REGIONS = EVENT_GRID_REGIONS;

/** The column types a DCR stream declaration accepts (data-collection-rule-structure "Data types"). */
export const STREAM_COLUMN_TYPES = ["string", "int", "long", "real", "boolean", "datetime", "dynamic"] as const;

const dataCollectionRule = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, "must be 1-64 letters, digits, dashes, dots or underscores"),
  subscriptionId,
  resourceGroup: name,
  location: z
    .string()
    .refine((l) => (INGESTION_REGIONS as readonly string[]).includes(l.toLowerCase()), `must be one of the regions the emulator's certificate covers: ${INGESTION_REGIONS.join(", ")}`),
  /** `dcr-<32 hex>`; absent = derived from the name (deterministic). */
  immutableId: z.string().regex(/^dcr-[0-9a-f]{32}$/, "must be dcr- and 32 lower-case hex digits").optional(),
  /** The data collection endpoint the rule is reached through (host label); absent = `<name>-dce`. Rules may share one. */
  endpointName: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9-]{1,42}[a-zA-Z0-9]$/, "must be 3-44 letters, digits or dashes").optional(),
  streams: z
    .array(
      z.strictObject({
        name: z.string().regex(/^Custom-[A-Za-z][A-Za-z0-9_]*$/, "must be Custom-<letters, digits, underscores>"),
        columns: z
          .array(z.strictObject({ name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,44}$/, "must start with a letter: up to 45 letters, digits or underscores"), type: z.enum(STREAM_COLUMN_TYPES) }))
          .min(1, "a stream declares at least one column"),
      }),
    )
    .min(1, "a rule declares at least one stream"),
  /** Object ids holding Monitoring Metrics Publisher on the rule; absent = KeyWarden's principal if the fixture lists it. */
  ingestors: z.array(guid).optional(),
});

/** A role assignment of Azure RBAC (ARM): a built-in role name, a GUID or a full role definition id; scope = an ARM id. */
const armRoleAssignment = z.strictObject({
  name: guid.optional(),
  principalId: guid,
  role: z.string().min(1),
  scope: z.string().regex(/^\/subscriptions\/[0-9a-fA-F-]{36}(\/.*)?$/, "must be /subscriptions/<id>[/resourceGroups/<rg>[/providers/...]]"),
  description: z.string().optional(),
});

/** A custom Azure RBAC role (its GUID, name and permissions), assignable like a built-in one. */
const armRoleDefinition = z.strictObject({
  name: guid,
  roleName: z.string().min(1),
  description: z.string().optional(),
  actions: z.array(z.string().min(1)).default([]),
  notActions: z.array(z.string().min(1)).default([]),
  dataActions: z.array(z.string().min(1)).default([]),
  notDataActions: z.array(z.string().min(1)).default([]),
});

export const fixtureSchema = z.strictObject({
  name,
  description: z.string().optional(),
  tenantId: guid,
  /** The default subscription: of every resource that names none. */
  subscriptionId: guid,
  /** Further subscriptions that exist even when they hold nothing; those that hold resources exist implicitly. */
  subscriptions: z.array(z.strictObject({ subscriptionId: guid, displayName: z.string().optional() })).default([]),
  /** Extra (possibly empty) resource groups; groups holding resources exist implicitly. */
  resourceGroups: z.array(z.strictObject({ name, location: name, subscriptionId })).default([]),
  /** Planted deviations from the reference estate, for tests to assert. */
  drift: z.array(z.strictObject({ id: z.string().min(1), description: z.string().min(1) })).default([]),
  principals: z.array(z.strictObject({ id: guid, displayName: z.string() })).default([]),
  managedHsms: z.array(managedHsm).default([]),
  sqlManagedInstances: z.array(sqlManagedInstance).default([]),
  /** Instance failover groups between two of `sqlManagedInstances` (Microsoft.Sql/locations/instanceFailoverGroups). */
  sqlFailoverGroups: z.array(sqlFailoverGroup).default([]),
  diskEncryptionSets: z.array(diskEncryptionSet).default([]),
  virtualMachines: z.array(virtualMachine).default([]),
  storageAccounts: z.array(storageAccount).default([]),
  /** Event Grid custom topics (data plane only: POST /api/events on <name>.<location>-1.eventgrid.azure.net). */
  eventGridTopics: z.array(eventGridTopic).default([]),
  /** Data collection rules for the Logs Ingestion API (data plane only: POST /dataCollectionRules/{immutableId}/streams/{stream}). */
  dataCollectionRules: z.array(dataCollectionRule).default([]),
  /** Log Analytics workspaces (query API only); every workspace a diagnostic setting names exists too, with default readers. */
  logAnalyticsWorkspaces: z
    .array(
      z.strictObject({
        name,
        subscriptionId,
        resourceGroup: name,
        location: name,
        customerId: guid.optional(),
        /** Object ids holding Log Analytics Reader; absent = KeyWarden's principal if the fixture lists it. */
        readers: z.array(guid).optional(),
      }),
    )
    .default([]),
  /** Custom Azure RBAC roles (ARM plane); the built-ins of backend/armRbac.ts are always there. */
  armRoleDefinitions: z.array(armRoleDefinition).default([]),
  /**
   * Azure RBAC role assignments; when given, every ARM request (and the query, metrics, Event Grid and Logs Ingestion
   * calls Azure authorises by them) needs one covering it. Absent = the ARM plane is not authorised.
   */
  armRoleAssignments: z.array(armRoleAssignment).optional(),
});

/** A fixture as written (defaults optional). */
export type FixtureInput = z.input<typeof fixtureSchema>;
/** A validated fixture (defaults filled). */
export type Fixture = z.output<typeof fixtureSchema>;
export type FixtureKey = z.output<typeof fixtureKey>;
export type FixtureIdentity = z.output<typeof identity>;

export class FixtureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FixtureError";
  }
}

/** Validates a fixture object; the error message names the offending field path. */
export function parseFixture(input: unknown): Fixture {
  const r = fixtureSchema.safeParse(input);
  if (!r.success) {
    const msgs = r.error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new FixtureError(`invalid fixture: ${msgs.join("; ")}`);
  }
  const f = r.data;
  // Cross-field rules zod cannot express locally.
  const hsmsByName = new Map(f.managedHsms.map((h) => [h.name.toLowerCase(), h]));
  const keysByHsm = new Map(f.managedHsms.map((h) => [h.name.toLowerCase(), new Map(h.keys.map((k) => [k.name.toLowerCase(), k]))]));
  const checkRef = (path: string, ref: string | undefined): void => {
    if (!ref) return;
    const [hsm = "", rest = ""] = ref.split("/");
    const keyName = rest.split("@")[0] ?? "";
    if (!hsmsByName.has(hsm.toLowerCase())) throw new FixtureError(`invalid fixture: ${path}: unknown managed HSM '${hsm}'`);
    const k = keysByHsm.get(hsm.toLowerCase())?.get(keyName.toLowerCase());
    if (!k) throw new FixtureError(`invalid fixture: ${path}: unknown key '${keyName}' in '${hsm}'`);
    const sel = rest.split("@")[1];
    if (sel && /^\d+$/.test(sel) && sel.length < 32 && Number(sel) >= k.versions.length)
      throw new FixtureError(`invalid fixture: ${path}: key '${keyName}' has no version index ${sel}`);
  };
  f.sqlManagedInstances.forEach((m, i) => {
    m.keys.forEach((k, j) => checkRef(`sqlManagedInstances.${i}.keys.${j}`, k));
    checkRef(`sqlManagedInstances.${i}.encryptionProtector.key`, m.encryptionProtector?.key);
  });
  f.sqlManagedInstances.forEach((m, i) => {
    const primary = m.primaryUserAssignedIdentityId?.toLowerCase();
    if (primary && !m.identity?.userAssignedIdentities?.some((u) => u.resourceId.toLowerCase() === primary))
      throw new FixtureError(`invalid fixture: sqlManagedInstances.${i}.primaryUserAssignedIdentityId: not one of identity.userAssignedIdentities`);
  });
  f.diskEncryptionSets.forEach((d, i) => {
    checkRef(`diskEncryptionSets.${i}.activeKey`, d.activeKey);
    d.previousKeys.forEach((k, j) => checkRef(`diskEncryptionSets.${i}.previousKeys.${j}`, k));
  });
  f.storageAccounts.forEach((s, i) => {
    if (s.encryption.keySource === "Microsoft.Keyvault") checkRef(`storageAccounts.${i}.encryption.key`, s.encryption.key);
  });
  f.sqlFailoverGroups.forEach((g, i) => {
    const primary = resolveManagedInstance(f, g.primary, `sqlFailoverGroups.${i}.primary`);
    const partner = resolveManagedInstance(f, g.partner, `sqlFailoverGroups.${i}.partner`);
    if (primary === partner) throw new FixtureError(`invalid fixture: sqlFailoverGroups.${i}.partner: the same instance as primary`);
    if (primary.location.toLowerCase() === partner.location.toLowerCase())
      throw new FixtureError(`invalid fixture: sqlFailoverGroups.${i}.partner: in the primary's region '${primary.location}' (a failover group spans two regions)`);
  });
  const scoped = (sub: string | undefined, rg: string, n: string): string => `${(sub || f.subscriptionId).toLowerCase()}/${rg.toLowerCase()}/${n.toLowerCase()}`;
  const desNames = new Set(f.diskEncryptionSets.map((d) => scoped(d.subscriptionId, d.resourceGroup, d.name)));
  f.virtualMachines.forEach((vm, i) => {
    const des = vm.diskEncryptionSet;
    if (des && !des.startsWith("/") && !desNames.has(scoped(vm.subscriptionId, vm.resourceGroup, des)))
      throw new FixtureError(`invalid fixture: virtualMachines.${i}.diskEncryptionSet: no disk encryption set '${des}' in '${vm.resourceGroup}' of subscription ${vm.subscriptionId ?? f.subscriptionId}`);
  });
  const seen = new Map<string, string>();
  const unique = (path: string, type: string, sub: string | undefined, rg: string, n: string): void => {
    const id = `${type}/${scoped(sub, rg, n)}`;
    const first = seen.get(id);
    if (first) throw new FixtureError(`invalid fixture: ${path}: '${n}' is already defined at ${first}`);
    seen.set(id, path);
  };
  // HSM and storage account names are DNS labels, unique across Azure.
  f.managedHsms.forEach((h, i) => unique(`managedHsms.${i}.name`, "hsm", "", "", h.name));
  f.sqlManagedInstances.forEach((m, i) => unique(`sqlManagedInstances.${i}.name`, "mi", m.subscriptionId, m.resourceGroup, m.name));
  f.diskEncryptionSets.forEach((d, i) => unique(`diskEncryptionSets.${i}.name`, "des", d.subscriptionId, d.resourceGroup, d.name));
  f.virtualMachines.forEach((v, i) => unique(`virtualMachines.${i}.name`, "vm", v.subscriptionId, v.resourceGroup, v.name));
  f.storageAccounts.forEach((a, i) => unique(`storageAccounts.${i}.name`, "sa", "", "", a.name));
  // A topic's host is <name>.<region>-1.eventgrid.azure.net; the emulator indexes topics by name alone.
  f.eventGridTopics.forEach((t, i) => unique(`eventGridTopics.${i}.name`, "topic", "", "", t.name));
  // Rule names, immutable ids and the stream and column names within a rule are unique; a shared endpoint keeps one region.
  const ruleIds = new Map<string, string>();
  const endpoints = new Map<string, { location: string; path: string }>();
  f.dataCollectionRules.forEach((r, i) => {
    unique(`dataCollectionRules.${i}.name`, "dcr", "", "", r.name);
    const id = (r.immutableId ?? "").toLowerCase();
    if (id && ruleIds.has(id)) throw new FixtureError(`invalid fixture: dataCollectionRules.${i}.immutableId: '${r.immutableId}' is already the immutable id of ${ruleIds.get(id)}`);
    if (id) ruleIds.set(id, `dataCollectionRules.${i}`);
    const endpoint = (r.endpointName ?? `${r.name}-dce`).toLowerCase();
    const seenEndpoint = endpoints.get(endpoint);
    if (seenEndpoint && seenEndpoint.location !== r.location.toLowerCase())
      throw new FixtureError(`invalid fixture: dataCollectionRules.${i}.location: endpoint '${endpoint}' of ${seenEndpoint.path} is in '${seenEndpoint.location}', not '${r.location}'`);
    endpoints.set(endpoint, { location: r.location.toLowerCase(), path: `dataCollectionRules.${i}` });
    const streams = new Set<string>();
    r.streams.forEach((s, j) => {
      if (streams.has(s.name.toLowerCase())) throw new FixtureError(`invalid fixture: dataCollectionRules.${i}.streams.${j}.name: '${s.name}' is declared twice`);
      streams.add(s.name.toLowerCase());
      const columns = new Set<string>();
      s.columns.forEach((c, k) => {
        if (columns.has(c.name.toLowerCase())) throw new FixtureError(`invalid fixture: dataCollectionRules.${i}.streams.${j}.columns.${k}.name: '${c.name}' is declared twice`);
        columns.add(c.name.toLowerCase());
      });
    });
  });
  const armRoles = armRoleDefinitionsOf(f);
  f.armRoleDefinitions.forEach((d, i) => {
    if (ARM_BUILT_IN_ROLES.some((b) => b.name === d.name.toLowerCase())) throw new FixtureError(`invalid fixture: armRoleDefinitions.${i}.name: '${d.name}' is the GUID of the built-in role`);
  });
  f.armRoleAssignments?.forEach((a, i) => {
    if (!findArmRole(armRoles, a.role)) throw new FixtureError(`invalid fixture: armRoleAssignments.${i}.role: no ARM role '${a.role}' (built-in: ${ARM_BUILT_IN_ROLES.map((r) => r.roleName).join(", ")}; or one of armRoleDefinitions)`);
  });
  return f;
}

export type FixtureEventGridTopic = z.output<typeof eventGridTopic>;
export type FixtureDataCollectionRule = z.output<typeof dataCollectionRule>;
export type FixtureManagedInstance = z.output<typeof sqlManagedInstance>;

/** The fixture instance a failover group names (by name, unique among instances, or by resource id); `path` names the field in errors. */
export function resolveManagedInstance(f: Pick<Fixture, "subscriptionId" | "sqlManagedInstances">, ref: string, path: string): FixtureManagedInstance {
  const wanted = ref.toLowerCase();
  const matches = f.sqlManagedInstances.filter((m) =>
    ref.startsWith("/")
      ? `/subscriptions/${m.subscriptionId ?? f.subscriptionId}/resourceGroups/${m.resourceGroup}/providers/Microsoft.Sql/managedInstances/${m.name}`.toLowerCase() === wanted
      : m.name.toLowerCase() === wanted,
  );
  if (matches.length === 0) throw new FixtureError(`invalid fixture: ${path}: no SQL managed instance '${ref}'`);
  if (matches.length > 1) throw new FixtureError(`invalid fixture: ${path}: '${ref}' names ${matches.length} SQL managed instances; give its resource id`);
  return matches[0]!;
}

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
export const BUILT_IN_FIXTURES = ["contoso-reference", "contoso-drifted"] as const;

/** A built-in fixture name, a path to a JSON file, or a fixture object. */
export async function loadFixture(source: string | object): Promise<Fixture> {
  if (typeof source !== "string") return parseFixture(source);
  const path = /^[a-z0-9-]+$/.test(source) ? join(FIXTURE_DIR, `${source}.json`) : source;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new FixtureError(`fixture: no built-in fixture or file named '${source}' (built-in: ${BUILT_IN_FIXTURES.join(", ")})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FixtureError(`fixture: ${path} is not JSON: ${(e as Error).message}`);
  }
  return parseFixture(json);
}
