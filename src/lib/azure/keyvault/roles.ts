import type { RoleAssignmentSnapshot, RoleDefinitionSnapshot } from "../../estate/snapshot.js";
import type { ManagedHsmRbacClient } from "./rbacClient.js";
import { toRoleAssignmentSnapshot, toRoleDefinitionSnapshot } from "./rbacMapping.js";

/** The read side of one Managed HSM's local RBAC, in the estate's types. */
export class ManagedHsmRoles {
  constructor(private readonly client: ManagedHsmRbacClient) {}

  async listRoleDefinitions(scope = "/"): Promise<RoleDefinitionSnapshot[]> {
    return (await this.client.listRoleDefinitions(scope)).map(toRoleDefinitionSnapshot);
  }

  /** Role assignments visible at `scope` ("/", "/keys" or "/keys/<name>"). */
  async listRoleAssignments(scope: string): Promise<RoleAssignmentSnapshot[]> {
    return (await this.client.listRoleAssignments(scope)).map(toRoleAssignmentSnapshot);
  }
}
