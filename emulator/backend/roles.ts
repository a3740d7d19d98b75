/**
 * Managed HSM built-in role definitions, exactly as azure-wire.md §1.4 records them (GUIDs from
 * built-in-roles.md; dataActions from a 2022 live response – UNVERIFIED that today's service lists the same arrays).
 */
const P = "Microsoft.KeyVault/managedHsm/";

export interface RoleDefinitionRecord {
  name: string;
  roleName: string;
  description: string;
  type: "AKVBuiltInRole" | "CustomRole";
  assignableScopes: string[];
  permissions: { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] }[];
}

const role = (name: string, roleName: string, dataActions: string[]): RoleDefinitionRecord => ({
  name,
  roleName,
  description: "",
  type: "AKVBuiltInRole",
  assignableScopes: ["/"],
  permissions: [{ actions: [], notActions: [], dataActions: dataActions.map((a) => P + a), notDataActions: [] }],
});

const RBAC_ADMIN = [
  "roleAssignments/delete/action",
  "roleAssignments/read/action",
  "roleAssignments/write/action",
  "roleDefinitions/read/action",
  "roleDefinitions/write/action",
  "roleDefinitions/delete/action",
];

export const BUILT_IN_ROLES: readonly RoleDefinitionRecord[] = [
  role("a290e904-7015-4bba-90c8-60543313cdb4", "Managed HSM Administrator", [
    ...RBAC_ADMIN,
    "securitydomain/download/action",
    "securitydomain/download/read",
    "securitydomain/upload/action",
    "securitydomain/upload/read",
    "securitydomain/transferkey/read",
    "backup/start/action",
    "restore/start/action",
    "backup/status/action",
    "restore/status/action",
    "settings/read/action",
    "settings/write/action",
  ]),
  role("515eb02d-2335-4d2d-92f2-b1cbdf9c3778", "Managed HSM Crypto Officer", [
    ...RBAC_ADMIN,
    "keys/deletedKeys/read/action",
    "keys/deletedKeys/delete",
    "keys/deletedKeys/recover/action",
    "keys/export/action",
  ]),
  role("21dbd100-6940-42c2-9190-5d6cb909625b", "Managed HSM Crypto User", [
    "roleDefinitions/read/action",
    "roleAssignments/read/action",
    "keys/read/action",
    "keys/write/action",
    "keys/delete",
    "keys/create",
    "keys/rotate/action",
    "keys/import/action",
    "keys/release/action",
    "keys/backup/action",
    "keys/restore/action",
    "keys/encrypt/action",
    "keys/decrypt/action",
    "keys/wrap/action",
    "keys/unwrap/action",
    "keys/sign/action",
    "keys/verify/action",
    "keys/derive/action",
    "rng/action",
  ]),
  role("4bd23610-cdcf-4971-bdee-bdc562cc28e4", "Managed HSM Policy Administrator", [
    "roleDefinitions/read/action",
    "roleDefinitions/write/action",
    "roleDefinitions/delete/action",
    "roleAssignments/read/action",
    "roleAssignments/write/action",
    "roleAssignments/delete/action",
  ]),
  role("2c18b078-7c48-4d3a-af88-5a3a1b3f82b3", "Managed HSM Crypto Auditor", [
    "roleAssignments/read/action",
    "roleDefinitions/read/action",
    "keys/read/action",
    "keys/deletedKeys/read/action",
  ]),
  role("33413926-3206-4cdd-b39a-83574fe37a17", "Managed HSM Crypto Service Encryption User", [
    "keys/read/action",
    "keys/wrap/action",
    "keys/unwrap/action",
  ]),
  role("7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8", "Managed HSM Backup User", ["backup/start/action", "backup/status/action", "keys/backup/action"]),
  role("21dbd100-6940-42c2-9190-5d6cb909625c", "Managed HSM Crypto Service Release User", ["keys/release/action"]),
  role("6efe6056-5259-49d2-8b3d-d3d73544b20b", "Managed HSM Restore User", ["restore/start/action", "restore/status/action", "keys/restore/action"]),
];

export const ROLE_DEFINITION_ID_PREFIX = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/";

export const roleDefinitionId = (guid: string): string => ROLE_DEFINITION_ID_PREFIX + guid;

/** Resolves a built-in role name or GUID (or a full role definition id). */
export function findBuiltInRole(nameOrId: string): RoleDefinitionRecord | undefined {
  const guid = nameOrId.split("/").pop()!.toLowerCase();
  return BUILT_IN_ROLES.find((r) => r.name === guid || r.roleName.toLowerCase() === nameOrId.toLowerCase());
}
