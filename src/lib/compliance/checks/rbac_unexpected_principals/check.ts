import type { ManagedHsmPolicy } from "../../../config/types.js";
import type { ManagedHsmSnapshot } from "../../../estate/snapshot.js";
import { hsmPairs } from "../../query.js";
import {
  assignmentDataActions,
  assignmentsOf,
  consumerIdentities,
  describeGrants,
  expectedPrincipals,
  grantsEvidence,
  hsmConsumers,
  isAdministrative,
  isKeyDataAction,
  isScopeOfKeys,
  keyScope,
  normalScope,
  principalResource,
  rbacErrors,
  type ConsumerIdentity,
  type HsmConsumers,
} from "../../query/rbac.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const EXPECTED = "a key-management, administrator or other expected principal of the policy, or a consumer identity at its own key's scope";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).flatMap(({ policy, hsm, resource }) => {
    if (hsm.roleAssignments === null) {
      return [r.unknown({ resource, message: `The role assignments of ${policy.name} could not be read, so who has key access is unknown.`, expected: EXPECTED, errors: rbacErrors(ctx, hsm, ["rbac.roleAssignments"]) })];
    }
    const consumers = hsmConsumers(ctx, hsm, resource);
    // Principals whose roles reach keys, whose roles could grant them that (administrative), or whose roles could not
    // be resolved (they might).
    const candidates = hsm.roleAssignments.filter((a) => isAdministrative(hsm, a) || (assignmentDataActions(hsm, a)?.some(isKeyDataAction) ?? true));
    const principalIds = [...new Map(candidates.map((a) => [a.principalId.toLowerCase(), a.principalId])).values()];
    const identities = new Map(consumerIdentities(consumers.consumers).map((i) => [i.principalId.toLowerCase(), i]));
    return principalIds.map((principalId) => judge(ctx, r, policy, hsm, consumers, identities.get(principalId.toLowerCase()), principalId));
  });
}

function judge(
  ctx: CheckContext,
  r: ReturnType<typeof resultsFor>,
  policy: ManagedHsmPolicy,
  hsm: ManagedHsmSnapshot,
  consumers: HsmConsumers,
  identity: ConsumerIdentity | undefined,
  principalId: string,
): ControlResult {
  const consumerKeys = identity?.keyNames ?? [];
  const resource = principalResource(policy, principalId, identity?.resource.name);
  const held = assignmentsOf(hsm, principalId).map((a) => ({ assignment: a, actions: assignmentDataActions(hsm, a) }));
  const keyGrants = held.filter((h) => h.actions?.some(isKeyDataAction)).map((h) => h.assignment);
  const administrative = held.filter((h) => isAdministrative(hsm, h.assignment)).map((h) => h.assignment);
  const unresolved = held.filter((h) => h.actions === null).map((h) => h.assignment);
  const observed = { keyAccess: grantsEvidence(hsm, keyGrants), administrativeRoles: grantsEvidence(hsm, administrative), unresolvedRoles: grantsEvidence(hsm, unresolved), consumerOfKeys: consumerKeys };
  const expected = { expectedPrincipal: EXPECTED, consumerScopes: consumerKeys.map(keyScope) };

  const asPolicy = expectedPrincipals(policy).find((p) => p.principalId.toLowerCase() === principalId.toLowerCase());
  if (asPolicy) return r.pass({ resource, message: `${resource.name} has key access as a ${asPolicy.role} principal the policy expects.`, observed, expected });

  // An administrative role can grant its holder any role (Crypto Officer and Policy Administrator included), so no
  // consumer identity needs one.
  if (administrative.length > 0) {
    return r.fail({
      resource,
      message: `${resource.name} holds ${describeGrants(hsm, administrative)}, an administrative role that can grant itself key access, but the policy does not expect it: remove the role or add the principal to the policy.`,
      observed,
      expected,
    });
  }
  const stray = keyGrants.filter((a) => !isScopeOfKeys(a.scope, consumerKeys));
  const reachesAllKeys = stray.some((a) => !normalScope(a.scope).startsWith("/keys/"));
  if (stray.length > 0 && (reachesAllKeys || consumers.gaps.length === 0)) {
    const role = consumerKeys.length > 0 ? `the consumer identity of ${consumerKeys.join(", ")} only` : "not a principal the policy expects nor a consumer identity";
    return r.fail({ resource, message: `${resource.name} holds ${describeGrants(hsm, stray)}, but it is ${role}: remove the access or add it to the policy.`, observed, expected });
  }
  if (stray.length > 0) {
    return r.unknown({ resource, message: `${resource.name} holds ${describeGrants(hsm, stray)} and may be the identity of a consumer that could not be read.`, observed, expected, errors: consumers.gaps.flatMap((g) => g.errors) });
  }
  if (unresolved.length > 0) {
    return r.unknown({ resource, message: `${resource.name} holds ${describeGrants(hsm, unresolved)}, whose definition could not be read, so its key access is unknown.`, observed, expected, errors: rbacErrors(ctx, hsm, ["rbac.roleDefinitions"]) });
  }
  return r.pass({ resource, message: `${resource.name} has key access only as the consumer identity of ${consumerKeys.join(", ")}, at its key scope.`, observed, expected });
}
