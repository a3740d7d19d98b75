/**
 * Exactly the permissions KeyWarden's identity needs, one row per grant: the README's permission table,
 * `keywarden setup-roles`, the ARM templates (`infra/`) and the emulator's least-privilege tests all read
 * this one list, so that none of them can ask for more than the others document.
 *
 * Built-in role GUIDs: learn.microsoft.com/azure/role-based-access-control/built-in-roles and
 * learn.microsoft.com/azure/key-vault/managed-hsm/built-in-roles.
 */
import { MANAGED_HSM_ROLES } from "./rbac/builtinRoles.js";

/** What a grant lets KeyWarden do; removing the grant makes exactly this capability fail. */
export type Capability = "read" | "signals" | "rotate" | "moveConsumers" | "ownResources";

/** Where a role is assigned: ARM (Azure RBAC) or the Managed HSM's local RBAC (data plane, not assignable through ARM). */
export type Plane = "arm" | "hsm";

export interface PermissionGrant {
  /** Stable id (tests, templates and docs refer to it). */
  id: string;
  capability: Capability;
  plane: Plane;
  /** The role's display name, as Azure shows it. */
  roleName: string;
  /** The role definition's GUID (built-in), or the GUID KeyWarden gives its custom role. */
  roleGuid: string;
  /** A custom role KeyWarden defines (its actions or data actions below); otherwise built-in. */
  custom?: { actions?: readonly string[]; dataActions?: readonly string[]; description: string };
  /** Where it is assigned, in words for the table; `scopeTemplate` is the same as a pattern. */
  scope: string;
  scopeTemplate: string;
  /** Why KeyWarden needs it, and what fails without it. */
  why: string;
}

/** The ARM actions that let KeyWarden move consumers to a new key version, and nothing else. */
export const CONSUMER_OPERATOR_ACTIONS = [
  "Microsoft.Sql/managedInstances/keys/write",
  "Microsoft.Sql/managedInstances/encryptionProtector/write",
  "Microsoft.Compute/diskEncryptionSets/write",
  "Microsoft.Storage/storageAccounts/write",
] as const;

export const CONSUMER_OPERATOR_ROLE = {
  roleName: "KeyWarden Consumer Key Operator",
  /** Fixed so that templates and reruns name the same definition (a GUID of our own, not a built-in). */
  roleGuid: "6f0a3c2e-9b1d-4e57-8c4a-2d7e5b9f1a63",
  description: "Lets KeyWarden point SQL MI TDE protectors, disk encryption sets and storage accounts at a new version of their Managed HSM key.",
} as const;

export const SETTINGS_READER_ROLE = {
  roleName: "KeyWarden Settings Reader",
  roleGuid: "f3b1c8a2-5d4e-4c6b-9a7f-2e8d1c0b3a95",
  description: "Reads the Managed HSM's account settings (among the built-in roles only Administrator can).",
} as const;

export const PERMISSIONS: readonly PermissionGrant[] = [
  {
    id: "arm-reader",
    capability: "read",
    plane: "arm",
    roleName: "Reader",
    roleGuid: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    scope: "each subscription in the policy's `subscriptions` (and the HSM's)",
    scopeTemplate: "/subscriptions/{subscriptionId}",
    why: "discovers the HSM, its private endpoints and diagnostic settings, and every consumer, and reads the HSM's metrics and the logs of a workspace in that subscription; without it that subscription's results are UNKNOWN",
  },
  {
    id: "hsm-crypto-auditor",
    capability: "read",
    plane: "hsm",
    roleName: MANAGED_HSM_ROLES.cryptoAuditor.name,
    roleGuid: MANAGED_HSM_ROLES.cryptoAuditor.guid,
    scope: "`/` on each Managed HSM",
    scopeTemplate: "/",
    why: "reads keys, versions, rotation policies and the HSM's role assignments; without it every key and RBAC result is UNKNOWN",
  },
  {
    id: "hsm-settings-reader",
    capability: "read",
    plane: "hsm",
    roleName: SETTINGS_READER_ROLE.roleName,
    roleGuid: SETTINGS_READER_ROLE.roleGuid,
    custom: { dataActions: ["Microsoft.KeyVault/managedHsm/settings/read/action"], description: SETTINGS_READER_ROLE.description },
    scope: "`/` on each Managed HSM",
    scopeTemplate: "/",
    why: "reads AllowKeyManagementOperationsThroughARM; without it hsm_arm_key_management_disabled is UNKNOWN",
  },
  {
    id: "arm-log-analytics-reader",
    capability: "signals",
    plane: "arm",
    roleName: "Log Analytics Reader",
    roleGuid: "73c42c96-874c-492b-b04d-ab87d138a893",
    scope:
      "the workspace each HSM's diagnostic setting sends AuditEvent to, when that workspace is in a subscription arm-reader does not cover (a central logging subscription); elsewhere Reader covers the query",
    scopeTemplate: "{workspaceResourceId}",
    why: "reads the HSM's newest audit event and the requests it refused from a workspace KeyWarden holds no Reader on; without it there those controls are UNKNOWN",
  },
  {
    id: "hsm-crypto-user",
    capability: "rotate",
    plane: "hsm",
    roleName: MANAGED_HSM_ROLES.cryptoUser.name,
    roleGuid: MANAGED_HSM_ROLES.cryptoUser.guid,
    scope: "`/keys/<name>` for each managed key whose rotation is enabled",
    scopeTemplate: "/keys/{keyName}",
    why: "sets the key's rotation policy and rotates it; without it that key's rotation fails at its first step, and nothing else is touched",
  },
  {
    id: "arm-consumer-operator",
    capability: "moveConsumers",
    plane: "arm",
    roleName: CONSUMER_OPERATOR_ROLE.roleName,
    roleGuid: CONSUMER_OPERATOR_ROLE.roleGuid,
    custom: { actions: CONSUMER_OPERATOR_ACTIONS, description: CONSUMER_OPERATOR_ROLE.description },
    scope: "each subscription whose consumers KeyWarden moves (opt-in)",
    scopeTemplate: "/subscriptions/{subscriptionId}",
    why: "adds the new version to a SQL MI and moves its TDE protector, patches each DES and pinned storage account; without it those steps fail with 403 and the consumer stays on its (still usable) version",
  },
  {
    id: "own-storage-blob-data-owner",
    capability: "ownResources",
    plane: "arm",
    roleName: "Storage Blob Data Owner",
    roleGuid: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    scope: "KeyWarden's own storage account",
    scopeTemplate: "{storageAccountResourceId}",
    why: "the Functions host (identity-based AzureWebJobsStorage, deployment package) and the state store (locks, journal, history, outboxes)",
  },
  {
    id: "own-eventgrid-data-sender",
    capability: "ownResources",
    plane: "arm",
    roleName: "EventGrid Data Sender",
    roleGuid: "d5a91429-5739-47e2-a06b-3470a27159e7",
    scope: "KeyWarden's Event Grid custom topic",
    scopeTemplate: "{topicResourceId}",
    why: "publishes the key events Managed HSM does not send, and KeyWarden's own",
  },
  {
    id: "own-monitoring-metrics-publisher",
    capability: "ownResources",
    plane: "arm",
    roleName: "Monitoring Metrics Publisher",
    roleGuid: "3913510d-42f4-4e42-8a64-420c390055eb",
    scope: "KeyWarden's data collection rule",
    scopeTemplate: "{dataCollectionRuleResourceId}",
    why: "uploads alert rows to KeyWardenFindings_CL and KeyWardenRotations_CL through Logs Ingestion",
  },
];

export const permissionById = (id: string): PermissionGrant => {
  const grant = PERMISSIONS.find((p) => p.id === id);
  if (!grant) throw new Error(`no permission grant '${id}'`);
  return grant;
};
