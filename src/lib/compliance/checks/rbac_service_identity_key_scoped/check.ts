import type { ManagedHsmSnapshot, RoleAssignmentSnapshot } from "../../../estate/snapshot.js";
import { WRAP_DATA_ACTIONS } from "../../../rbac/builtinRoles.js";
import { hsmPairs, roleLabel } from "../../query.js";
import { assignmentDataActions, assignmentsOf, consumerIdentities, grantsEvidence, hsmConsumers, isScopeOfKeys, keyScope, rbacErrors, sameAction, type ConsumerIdentity } from "../../query/rbac.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).flatMap(({ hsm, resource }) => {
    const { consumers, gaps } = hsmConsumers(ctx, hsm, resource);
    return [
      ...gaps.map((g) => r.unknown({ resource: g.resource, message: g.message, expected: { scope: "/keys/<its key>", dataActions: [...WRAP_DATA_ACTIONS] }, errors: g.errors })),
      ...consumerIdentities(consumers).map((identity) => judge(ctx, r, hsm, identity)),
    ];
  });
}

function judge(ctx: CheckContext, r: ReturnType<typeof resultsFor>, hsm: ManagedHsmSnapshot, identity: ConsumerIdentity): ControlResult {
  const resource = identity.resource;
  const who = `${identity.resource.name} [${identity.principalId}]`;
  const expected = { scopes: identity.keyNames.map(keyScope), dataActionsAtMost: [...WRAP_DATA_ACTIONS] };
  if (hsm.roleAssignments === null) {
    return r.unknown({ resource, message: `The HSM's role assignments could not be read, so the scope of ${who}'s access is unknown.`, expected, errors: rbacErrors(ctx, hsm, ["rbac.roleAssignments"]) });
  }
  const assignments = assignmentsOf(hsm, identity.principalId);
  const judged = assignments.map((a) => ({ assignment: a, ...problems(hsm, a, identity.keyNames) }));
  const observed = { consumers: identity.consumers.map((c) => c.name), grants: grantsEvidence(hsm, assignments) };

  const wrong = judged.filter((j) => j.problems.length > 0);
  if (wrong.length > 0) {
    const detail = wrong.map((j) => `${roleLabel(hsm, j.assignment)} at "${j.assignment.scope}" (${j.problems.join("; ")})`).join(", ");
    return r.fail({ resource, message: `${who} holds ${detail}; it needs only Crypto Service Encryption User at ${expected.scopes.map((s) => `"${s}"`).join(", ")}.`, observed, expected });
  }
  if (judged.some((j) => j.unknownRole)) {
    return r.unknown({ resource, message: `${who} holds a role whose definition could not be read, so whether it is limited to read/wrap/unwrap is unknown.`, observed, expected, errors: rbacErrors(ctx, hsm, ["rbac.roleDefinitions"]) });
  }
  return assignments.length === 0
    ? r.pass({ resource, message: `${who} holds no role on the HSM, so it has nothing broader than its key (whether it can wrap is rbac_consumer_identity_can_wrap's finding).`, observed, expected })
    : r.pass({ resource, message: `${who} holds only read/wrap/unwrap, scoped to ${expected.scopes.join(", ")}.`, observed, expected });
}

function problems(hsm: ManagedHsmSnapshot, assignment: RoleAssignmentSnapshot, keyNames: string[]): { problems: string[]; unknownRole: boolean } {
  const found: string[] = [];
  if (!isScopeOfKeys(assignment.scope, keyNames)) found.push(`scope "${assignment.scope}" reaches keys it does not use`);
  const actions = assignmentDataActions(hsm, assignment);
  const extra = (actions ?? []).filter((a) => !WRAP_DATA_ACTIONS.some((w) => sameAction(a, w)));
  if (extra.length > 0) found.push(`grants ${extra.length} data action(s) beyond read/wrap/unwrap, e.g. ${extra.slice(0, 3).join(", ")}`);
  return { problems: found, unknownRole: actions === null };
}
