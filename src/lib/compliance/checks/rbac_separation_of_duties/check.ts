import { hsmPairs } from "../../query.js";
import { assignmentsOf, describeGrants, grantsEvidence, hasRole, isAdministrative, principalResource, rbacErrors } from "../../query/rbac.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const expected = "an administrative role (Administrator, Crypto Officer, Policy Administrator, or a custom role that writes role assignments), or Crypto User; never both";
  return hsmPairs(ctx).flatMap(({ policy, hsm, resource }) => {
    if (hsm.roleAssignments === null) {
      return [r.unknown({ resource, message: `The role assignments of ${policy.name} could not be read, so who holds which duties is unknown.`, expected, errors: rbacErrors(ctx, hsm, ["rbac.roleAssignments"]) })];
    }
    const privileged = hsm.roleAssignments.filter((a) => isAdministrative(hsm, a) || hasRole(a, "cryptoUser"));
    const principals = [...new Map(privileged.map((a) => [a.principalId.toLowerCase(), a.principalId])).values()];
    return principals.map((principalId) => {
      const held = assignmentsOf(hsm, principalId);
      // Crypto Officer and Policy Administrator can grant themselves Administrator: they count as role management.
      const roleManagement = held.filter((a) => isAdministrative(hsm, a));
      const keyManagement = held.filter((a) => hasRole(a, "cryptoUser"));
      const who = principalResource(policy, principalId);
      const observed = grantsEvidence(hsm, [...roleManagement, ...keyManagement]);
      return roleManagement.length > 0 && keyManagement.length > 0
        ? r.fail({ resource: who, message: `${who.name} holds ${describeGrants(hsm, roleManagement)} together with ${describeGrants(hsm, keyManagement)}, so it can grant itself access and use it alone.`, observed, expected })
        : r.pass({ resource: who, message: `${who.name} holds ${describeGrants(hsm, [...roleManagement, ...keyManagement])} without the conflicting duty.`, observed, expected });
    });
  });
}
