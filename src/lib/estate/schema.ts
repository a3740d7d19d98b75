import { z } from "zod";
import { SNAPSHOT_SCHEMA_VERSION, type EstateSnapshot } from "./snapshot.js";

/**
 * The runtime schema of the estate snapshot (the types in snapshot.ts, checked when a snapshot is
 * read back from a file or a store). Objects are strict: a snapshot that does not say exactly what
 * this version says is refused rather than half-understood.
 */

const str = z.string();
const opt = <T extends z.ZodType>(t: T) => t.optional();
const strings = z.array(str);

const partSchema = z.enum([
  "managedHsm",
  "managedHsm.regions",
  "managedHsm.privateEndpointConnections",
  "managedHsm.privateEndpoint",
  "managedHsm.diagnosticSettings",
  "managedHsm.settings",
  "keys",
  "key",
  "key.versions",
  "key.rotationPolicy",
  "rbac.roleDefinitions",
  "rbac.roleAssignments",
  "consumers.sqlManagedInstances",
  "consumers.sqlManagedInstance.encryptionProtector",
  "consumers.sqlManagedInstance.keys",
  "consumers.sqlManagedInstance.failoverGroups",
  "consumers.diskEncryptionSets",
  "consumers.disks",
  "consumers.virtualMachines",
  "consumers.storageAccounts",
  "managedHsm.auditEvents",
  "managedHsm.deniedRequests",
  "managedHsm.metrics",
]);

const partRefSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("managedHsm"), hsm: str }),
  z.strictObject({ kind: z.literal("privateEndpoint"), hsm: str, privateEndpoint: str }),
  z.strictObject({ kind: z.literal("key"), hsm: str, key: str }),
  z.strictObject({ kind: z.literal("rbacScope"), hsm: str, scope: str }),
  z.strictObject({ kind: z.literal("subscription"), subscription: str }),
  z.strictObject({ kind: z.literal("consumer"), subscription: str, resource: str }),
]);

const collectionErrorSchema = z.strictObject({
  part: partSchema,
  about: partRefSchema,
  resourceId: str,
  operation: str,
  statusCode: opt(z.number().int()),
  code: opt(str),
  message: str,
});

const keyReferenceSchema = z.strictObject({ url: str, host: str, keyName: str, version: str.nullable() });

const identitySchema = z.strictObject({
  type: str,
  principalId: opt(str),
  tenantId: opt(str),
  userAssignedIdentities: z.array(z.strictObject({ resourceId: str, principalId: opt(str), clientId: opt(str) })),
});

const consumerBase = {
  resourceId: str,
  name: str,
  subscriptionId: str,
  resourceGroup: str,
  location: str,
  identity: identitySchema.nullable(),
};

const sqlManagedInstanceSchema = z.strictObject({
  ...consumerBase,
  kind: z.literal("sqlManagedInstance"),
  primaryUserAssignedIdentityId: opt(str),
  encryptionProtector: z
    .strictObject({
      serverKeyName: opt(str),
      serverKeyType: opt(str),
      uri: opt(str),
      keyReference: keyReferenceSchema.nullable(),
      autoRotationEnabled: opt(z.boolean()),
    })
    .nullable(),
  keys: z
    .array(z.strictObject({ name: str, serverKeyType: opt(str), uri: opt(str), creationDate: opt(str), autoRotationEnabled: opt(z.boolean()) }))
    .nullable(),
  failoverGroups: opt(z.array(z.strictObject({ id: str, name: str, role: opt(str), partnerManagedInstanceIds: strings })).nullable()),
  provisioningState: opt(str),
  state: opt(str),
});

const diskEncryptionSetSchema = z.strictObject({
  ...consumerBase,
  kind: z.literal("diskEncryptionSet"),
  encryptionType: opt(str),
  activeKeyUrl: opt(str),
  keyReference: keyReferenceSchema.nullable(),
  previousKeyUrls: strings,
  rotationToLatestKeyVersionEnabled: opt(z.boolean()),
  lastKeyRotationTimestamp: opt(str),
  autoKeyRotationError: opt(z.strictObject({ code: opt(str), message: opt(str) })),
  provisioningState: opt(str),
});

const storageAccountSchema = z.strictObject({
  ...consumerBase,
  kind: z.literal("storageAccount"),
  keySource: opt(str),
  keyVaultUri: opt(str),
  keyName: opt(str),
  keyVersion: opt(str),
  keyReference: keyReferenceSchema.nullable(),
  currentVersionedKeyIdentifier: opt(str),
  lastKeyRotationTimestamp: opt(str),
  encryptionUserAssignedIdentity: opt(str),
  provisioningState: opt(str),
  currentVersionedKeyExpirationTimestamp: opt(str),
});

const diskSchema = z.strictObject({
  resourceId: str,
  name: str,
  subscriptionId: str,
  resourceGroup: str,
  location: str,
  managedBy: opt(str),
  encryptionType: opt(str),
  diskEncryptionSetId: opt(str),
});

const virtualMachineSchema = z.strictObject({
  resourceId: str,
  name: str,
  subscriptionId: str,
  resourceGroup: str,
  location: str,
  disks: z.array(
    z.strictObject({ role: z.enum(["os", "data"]), lun: opt(z.number().int()), diskId: opt(str), name: opt(str), diskEncryptionSetId: opt(str) }),
  ),
  siteRecoveryProtected: opt(z.boolean()),
});

const keyVersionSchema = z.strictObject({
  version: str,
  id: str,
  enabled: opt(z.boolean()),
  createdOn: opt(str),
  updatedOn: opt(str),
  expiresOn: opt(str),
  notBefore: opt(str),
});

const rotationPolicySchema = z.strictObject({
  expiresIn: opt(str),
  lifetimeActions: z.array(z.strictObject({ action: z.enum(["Rotate", "Notify"]), timeAfterCreate: opt(str), timeBeforeExpiry: opt(str) })),
  createdOn: opt(str),
  updatedOn: opt(str),
});

const keySchema = z.strictObject({
  name: str,
  id: str,
  currentVersion: opt(str),
  keyType: opt(str),
  keySize: opt(z.number().int()),
  keyOps: strings,
  enabled: opt(z.boolean()),
  exportable: opt(z.boolean()),
  hasReleasePolicy: z.boolean(),
  createdOn: opt(str),
  updatedOn: opt(str),
  expiresOn: opt(str),
  notBefore: opt(str),
  recoveryLevel: opt(str),
  recoverableDays: opt(z.number().int()),
  tags: z.record(str, str),
  versions: z.array(keyVersionSchema).nullable(),
  rotationPolicy: rotationPolicySchema.nullable(),
});

const roleDefinitionSchema = z.strictObject({
  id: str,
  name: str,
  roleName: opt(str),
  roleType: opt(str),
  assignableScopes: strings,
  permissions: z.array(z.strictObject({ actions: strings, notActions: strings, dataActions: strings, notDataActions: strings })),
});

const roleAssignmentSchema = z.strictObject({ id: str, name: str, scope: str, principalId: str, roleDefinitionId: str, roleName: opt(str) });

const metricSummarySchema = z.strictObject({ average: z.number().nullable(), minimum: z.number().nullable(), maximum: z.number().nullable(), points: z.number().int() });
const instant = z.iso.datetime({ offset: true });

const signalsSchema = z.strictObject({
  workspace: z.union([z.literal("none"), z.strictObject({ id: str, diagnosticSetting: str })]).nullable(),
  auditEvents: z.strictObject({ windowHours: z.number().int(), count: z.number().int(), newestEventAt: instant.nullable() }).nullable(),
  deniedRequests: z
    .strictObject({
      windowHours: z.number().int(),
      groups: z.array(
        z.strictObject({
          objectId: opt(str),
          appId: opt(str),
          upn: opt(str),
          callerIpAddress: opt(str),
          operation: str,
          statusCode: z.number().int(),
          count: z.number().int(),
          lastSeen: instant,
        }),
      ),
      truncated: z.boolean(),
    })
    .nullable(),
  metrics: z.strictObject({ windowHours: z.number().int(), availability: metricSummarySchema, serviceApiLatency: metricSummarySchema }).nullable(),
});

const managedHsmSchema = z.strictObject({
  resourceId: str,
  name: str,
  subscriptionId: str,
  resourceGroup: str,
  location: opt(str),
  hsmUri: opt(str),
  properties: z
    .strictObject({
      tenantId: opt(str),
      provisioningState: opt(str),
      enableSoftDelete: opt(z.boolean()),
      softDeleteRetentionInDays: opt(z.number().int()),
      enablePurgeProtection: opt(z.boolean()),
      publicNetworkAccess: opt(str),
      networkAcls: opt(z.strictObject({ bypass: opt(str), defaultAction: opt(str), ipRules: strings, virtualNetworkRules: strings, serviceTags: opt(strings) })),
      securityDomainActivationStatus: opt(str),
      initialAdminObjectIds: strings,
    })
    .nullable(),
  regions: z.array(z.strictObject({ name: str, isPrimary: z.boolean(), provisioningState: opt(str) })).nullable(),
  privateEndpointConnections: z
    .array(z.strictObject({ id: str, privateEndpointId: opt(str), status: opt(str), provisioningState: opt(str), privateEndpointLocation: str.nullable() }))
    .nullable(),
  diagnosticSettings: z
    .array(
      z.strictObject({
        id: str,
        name: str,
        workspaceId: opt(str),
        storageAccountId: opt(str),
        eventHubAuthorizationRuleId: opt(str),
        logs: z.array(z.strictObject({ category: opt(str), categoryGroup: opt(str), enabled: z.boolean() })),
      }),
    )
    .nullable(),
  keys: z.array(keySchema).nullable(),
  roleDefinitions: z.array(roleDefinitionSchema).nullable(),
  roleAssignments: z.array(roleAssignmentSchema).nullable(),
  signals: opt(signalsSchema),
  settings: opt(z.array(z.strictObject({ name: str, value: str, type: opt(str) })).nullable()),
});

export const estateSnapshotSchema: z.ZodType<EstateSnapshot> = z.strictObject({
  schemaVersion: z.literal(SNAPSHOT_SCHEMA_VERSION),
  collectedAt: z.iso.datetime({ offset: true }),
  cloud: str,
  subscriptions: strings,
  managedHsms: z.array(managedHsmSchema),
  consumers: z.strictObject({
    sqlManagedInstances: z.array(sqlManagedInstanceSchema),
    diskEncryptionSets: z.array(diskEncryptionSetSchema),
    disks: z.array(diskSchema),
    virtualMachines: z.array(virtualMachineSchema),
    storageAccounts: z.array(storageAccountSchema),
  }),
  errors: z.array(collectionErrorSchema),
});
