import type { ManagedHsmSnapshot, RoleAssignmentSnapshot } from "../../../estate/snapshot.js";
import { hsmPairs, keysUrl } from "../../query.js";
import { LIMIT_WARNING_FRACTION, ROLE_ASSIGNMENT_LIMITS, keyScope, normalScope, rbacErrors } from "../../query/rbac.js";
import { resultsFor, type ResourceRef } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

interface ScopeGroup {
  resource: ResourceRef;
  label: string;
  limit: number;
  /** Which assignments count toward this group's limit. */
  includes: (a: RoleAssignmentSnapshot) => boolean;
}

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).flatMap(({ policy, hsm }) =>
    scopeGroups(hsm, policy.name, policy.keys.map((k) => k.name)).map(({ resource, label, limit, includes }) => {
      const warnAt = Math.ceil(limit * (1 - LIMIT_WARNING_FRACTION));
      const expected = { limit, warnAt };
      if (hsm.roleAssignments === null) {
        return r.unknown({ resource, message: `The role assignments of ${policy.name} could not be read, so the count at ${label} is unknown.`, expected, errors: rbacErrors(ctx, hsm, ["rbac.roleAssignments"]) });
      }
      const count = hsm.roleAssignments.filter(includes).length;
      const observed = { assignments: count };
      if (count >= limit) {
        return r.fail({ resource, message: `${label} has ${count} role assignments, at or over Managed HSM's limit of ${limit}: new grants there will be refused.`, observed, expected });
      }
      if (count >= warnAt) {
        return r.fail({ resource, severity: "low", message: `${label} has ${count} of at most ${limit} role assignments; consolidate into groups before new grants are refused.`, observed, expected });
      }
      return r.pass({ resource, message: `${label} has ${count} of at most ${limit} role assignments.`, observed, expected });
    }),
  );
}

/** HSM scope ("/" and "/keys" together), then each configured key and each other key that has assignments. */
function scopeGroups(hsm: ManagedHsmSnapshot, hsmName: string, policyKeys: string[]): ScopeGroup[] {
  const keys = keysUrl(hsm);
  const keyNames = new Map(policyKeys.map((k) => [k.toLowerCase(), k]));
  for (const a of hsm.roleAssignments ?? []) {
    const name = /^\/keys\/(.+)$/.exec(a.scope.replace(/\/+$/, ""))?.[1];
    if (name && !keyNames.has(name.toLowerCase())) keyNames.set(name.toLowerCase(), name);
  }
  return [
    {
      resource: { id: `${keys.replace(/\/keys$/, "")}/`, name: `${hsmName} HSM scope` },
      label: `${hsmName}'s HSM scope ("/" and "/keys")`,
      limit: ROLE_ASSIGNMENT_LIMITS.hsmScope,
      includes: (a) => ["/", "/keys"].includes(normalScope(a.scope)),
    },
    ...[...keyNames.values()].map((name) => ({
      resource: { id: `${keys}/${name}`, name: `${hsmName}${keyScope(name)}` },
      label: `Key scope "${keyScope(name)}"`,
      limit: ROLE_ASSIGNMENT_LIMITS.keyScope,
      includes: (a: RoleAssignmentSnapshot) => normalScope(a.scope) === normalScope(keyScope(name)),
    })),
  ];
}
