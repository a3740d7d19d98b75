import type { RoleAssignmentSnapshot, RoleDefinitionSnapshot } from "../../estate/snapshot.js";
import type { WireRoleAssignment, WireRoleDefinition } from "./rbacClient.js";

/** Maps Managed HSM local RBAC wire objects (rbac.json) to the estate's types. */

export function toRoleDefinitionSnapshot(d: WireRoleDefinition): RoleDefinitionSnapshot {
  return {
    id: d.id ?? "",
    name: d.name ?? "",
    ...(d.properties?.roleName ? { roleName: d.properties.roleName } : {}),
    ...(d.properties?.type ? { roleType: d.properties.type } : {}),
    assignableScopes: [...(d.properties?.assignableScopes ?? [])],
    permissions: (d.properties?.permissions ?? []).map((p) => ({
      actions: [...(p.actions ?? [])],
      notActions: [...(p.notActions ?? [])],
      dataActions: [...(p.dataActions ?? [])],
      notDataActions: [...(p.notDataActions ?? [])],
    })),
  };
}

/** The role's display name is resolved later, against the definitions (a join the collector makes). */
export function toRoleAssignmentSnapshot(a: WireRoleAssignment): RoleAssignmentSnapshot {
  return {
    id: a.id ?? "",
    name: a.name ?? "",
    scope: a.properties?.scope ?? "/",
    principalId: a.properties?.principalId ?? "",
    roleDefinitionId: a.properties?.roleDefinitionId ?? "",
  };
}
