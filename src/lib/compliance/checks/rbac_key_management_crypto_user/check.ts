import { MANAGED_HSM_ROLES } from "../../../rbac/builtinRoles.js";
import { hsmPairs } from "../../query.js";
import { assignmentsOf, describeGrants, grantsEvidence, hasRole, normalScope, principalResource, rbacErrors } from "../../query/rbac.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const HSM_WIDE_SCOPES = ["/", "/keys"];

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const expected = { role: MANAGED_HSM_ROLES.cryptoUser.name, scope: HSM_WIDE_SCOPES };
  return hsmPairs(ctx).flatMap(({ policy, hsm }) =>
    policy.keyManagementPrincipals.map(({ principalId }): ControlResult => {
      const resource = principalResource(policy, principalId);
      if (hsm.roleAssignments === null) {
        return r.unknown({ resource, message: `The role assignments of ${policy.name} could not be read, so ${resource.name}'s roles are unknown.`, expected, errors: rbacErrors(ctx, hsm, ["rbac.roleAssignments"]) });
      }
      const held = assignmentsOf(hsm, principalId);
      const observed = grantsEvidence(hsm, held);
      const cryptoUser = held.filter((a) => hasRole(a, "cryptoUser"));
      if (cryptoUser.some((a) => HSM_WIDE_SCOPES.includes(normalScope(a.scope)))) {
        return r.pass({ resource, message: `${resource.name} holds Managed HSM Crypto User at HSM scope and can create and rotate keys.`, observed, expected });
      }
      if (held.some((a) => hasRole(a, "cryptoOfficer"))) {
        return r.fail({
          resource,
          message: `${resource.name} holds Managed HSM Crypto Officer instead of Crypto User, the role-name confusion: Crypto Officer cannot create or rotate keys (it manages roles, purges and exports, and can grant itself Administrator), Crypto User is the key-management role.`,
          observed,
          expected,
        });
      }
      if (held.some((a) => hasRole(a, "policyAdministrator"))) {
        return r.fail({
          resource,
          message: `${resource.name} holds Managed HSM Policy Administrator instead of Crypto User: Policy Administrator is an administrative role (it manages role assignments and can grant itself Administrator), not key management; assign Managed HSM Crypto User at "/keys" and remove it.`,
          observed,
          expected,
        });
      }
      const why = cryptoUser.length > 0 ? `only at key scope (${describeGrants(hsm, cryptoUser)}), so it cannot create keys` : `no Crypto User role (it holds ${describeGrants(hsm, held)})`;
      return r.fail({ resource, message: `${resource.name} is a key-management principal but holds ${why}; assign Managed HSM Crypto User at "/keys".`, observed, expected });
    }),
  );
}
