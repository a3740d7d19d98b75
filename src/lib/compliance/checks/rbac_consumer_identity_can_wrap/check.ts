import type { Consumer, ManagedHsmSnapshot } from "../../../estate/snapshot.js";
import { WRAP_DATA_ACTIONS } from "../../../rbac/builtinRoles.js";
import { consumerPrincipalIds, hsmPairs } from "../../query.js";
import { consumerKeyName, describeGrants, grantsEvidence, hsmConsumers, keyScope, rbacErrors, wrapAccess } from "../../query/rbac.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).flatMap(({ hsm, resource }) => {
    const { consumers, gaps } = hsmConsumers(ctx, hsm, resource);
    return [
      ...gaps.map((g) => r.unknown({ resource: g.resource, message: g.message, expected: { dataActions: [...WRAP_DATA_ACTIONS] }, errors: g.errors })),
      ...consumers.map((consumer) => judge(ctx, r, hsm, consumer)),
    ];
  });
}

function judge(ctx: CheckContext, r: ReturnType<typeof resultsFor>, hsm: ManagedHsmSnapshot, consumer: Consumer): ControlResult {
  const keyName = consumerKeyName(consumer);
  const scope = keyScope(keyName);
  const resource = { id: consumer.resourceId, name: consumer.name };
  const expected = { roleAtScopeCovering: scope, dataActions: [...WRAP_DATA_ACTIONS] };
  const principalIds = consumerPrincipalIds(consumer);
  if (principalIds.length === 0) {
    return r.fail({ resource, message: `${consumer.name} has no managed identity, so it cannot be granted access to ${keyName} and cannot wrap or unwrap its data encryption key.`, observed: { identity: consumer.identity?.type ?? null }, expected });
  }
  if (hsm.roleAssignments === null) {
    return r.unknown({ resource, message: `The role assignments of the HSM holding ${keyName} could not be read, so ${consumer.name}'s access to it is unknown.`, expected, errors: rbacErrors(ctx, hsm, ["rbac.roleAssignments"]) });
  }

  const principals = principalIds.map((principalId) => wrapAccess(hsm, principalId, scope));
  const observed = principals.map((p) => ({ principalId: p.principalId, grants: grantsEvidence(hsm, p.covering), missing: [...p.missing] }));

  const lacking = principals.filter((p) => p.verdict === "missing");
  if (lacking.length > 0) {
    const detail = lacking.map((p) => `${p.principalId} lacks ${p.missing.map(shortAction).join("/")} (holds ${describeGrants(hsm, p.covering)})`).join("; ");
    return r.fail({ resource, message: `${consumer.name} cannot use ${keyName}: ${detail}, so the next rotation or failover will cut it off from its key.`, observed, expected });
  }
  if (principals.some((p) => p.verdict === "unknown")) {
    return r.unknown({ resource, message: `${consumer.name}'s roles on ${keyName} include a role whose definition could not be read, so whether it can wrap and unwrap is unknown.`, observed, expected, errors: rbacErrors(ctx, hsm, ["rbac.roleDefinitions"]) });
  }
  return r.pass({ resource, message: `${consumer.name}'s identity can read, wrap and unwrap ${keyName}.`, observed, expected });
}

/** ".../keys/wrap/action" → "wrap". */
function shortAction(action: string): string {
  return action.split("/").at(-2) ?? action;
}
