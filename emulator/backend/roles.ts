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

/** The body of RoleDefinitions_CreateOrUpdate (rbac.json RoleDefinitionCreateParameters), as parsed JSON. */
export interface RoleDefinitionInput {
  properties?: {
    roleName?: unknown;
    description?: unknown;
    type?: unknown;
    permissions?: unknown;
    assignableScopes?: unknown;
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE_SCOPES = ["/", "/keys"];

/**
 * Creates or replaces the custom role definition `name` (a GUID) of an HSM (`definitions` is its list, changed in
 * place). A built-in role cannot be replaced, and every data action must be a Managed HSM one. UNVERIFIED: the codes
 * and messages Managed HSM answers for each refusal (we answer 400 BadParameter, as for other malformed RBAC bodies).
 */
export function putCustomRoleDefinition(definitions: RoleDefinitionRecord[], name: string, input: RoleDefinitionInput, bad: (message: string) => Error): RoleDefinitionRecord {
  if (!GUID.test(name)) throw bad(`The role definition name '${name}' is not a GUID.`);
  const guid = name.toLowerCase();
  if (BUILT_IN_ROLES.some((r) => r.name === guid)) throw bad(`The role definition '${name}' is a built-in role and cannot be changed.`);
  const props = input.properties;
  if (!props || typeof props !== "object") throw bad("properties is required.");
  if (typeof props.roleName !== "string" || props.roleName.trim() === "") throw bad("properties.roleName is required.");
  if (props.type !== undefined && props.type !== "CustomRole") throw bad(`properties.type must be 'CustomRole' (got '${String(props.type)}').`);
  if (props.description !== undefined && typeof props.description !== "string") throw bad("properties.description must be a string.");
  const scopes = props.assignableScopes === undefined ? ["/"] : props.assignableScopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => typeof s !== "string" || !ROLE_SCOPES.includes(s))) {
    throw bad(`properties.assignableScopes must list scopes among ${ROLE_SCOPES.map((s) => `'${s}'`).join(", ")}.`);
  }
  if (!Array.isArray(props.permissions) || props.permissions.length === 0) throw bad("properties.permissions must be a non-empty array.");
  const permissions = props.permissions.map((p: unknown, i: number) => {
    if (!p || typeof p !== "object") throw bad(`properties.permissions[${i}] must be an object.`);
    const record = p as Record<string, unknown>;
    const list = (field: string, managedHsmOnly: boolean): string[] => {
      const value = record[field] ?? [];
      if (!Array.isArray(value) || value.some((a) => typeof a !== "string")) throw bad(`properties.permissions[${i}].${field} must be an array of strings.`);
      const strings = value as string[];
      const foreign = managedHsmOnly ? strings.find((a) => !a.startsWith(P)) : undefined;
      if (foreign !== undefined) throw bad(`properties.permissions[${i}].${field}: '${foreign}' is not a Managed HSM data action (${P}...).`);
      return [...strings];
    };
    return { actions: list("actions", false), notActions: list("notActions", false), dataActions: list("dataActions", true), notDataActions: list("notDataActions", true) };
  });
  const record: RoleDefinitionRecord = {
    name: guid,
    roleName: props.roleName,
    description: typeof props.description === "string" ? props.description : "",
    type: "CustomRole",
    assignableScopes: [...(scopes as string[])],
    permissions,
  };
  const index = definitions.findIndex((d) => d.name.toLowerCase() === guid);
  if (index >= 0) definitions[index] = record;
  else definitions.push(record);
  return record;
}
