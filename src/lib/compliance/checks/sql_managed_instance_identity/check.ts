import { sameResourceId } from "../../../estate/resourceId.js";
import { unreadListResults } from "../../query/consumers.js";
import { resultsFor, withMessage } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const expected = { identity: "SystemAssigned with a principalId, or UserAssigned with primaryUserAssignedIdentityId set to an assigned identity" };

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const instances = ctx.snapshot.consumers.sqlManagedInstances;

  return instances.map((mi) => {
    const resource = { id: mi.resourceId, name: mi.name };
    // ARM omits `identity` when the instance has none, so a null identity here means "None", not "unread".
    const identity = mi.identity;
    const primary = mi.primaryUserAssignedIdentityId;
    const observed = {
      type: identity?.type ?? "None",
      principalId: identity?.principalId ?? null,
      primaryUserAssignedIdentityId: primary ?? null,
      userAssignedIdentities: identity?.userAssignedIdentities.map((u) => u.resourceId) ?? [],
    };
    const subject = { resource, observed, expected };
    const systemAssigned = !!identity && /systemassigned/i.test(identity.type) && !!identity.principalId;
    const userAssigned = !!identity && /userassigned/i.test(identity.type) && !!primary && identity.userAssignedIdentities.some((u) => sameResourceId(u.resourceId, primary));
    if (userAssigned) return r.pass(withMessage(subject, `${mi.name} reaches its TDE key through its primary user-assigned identity.`));
    if (systemAssigned) return r.pass(withMessage(subject, `${mi.name} reaches its TDE key through its system-assigned identity.`));
    const why =
      identity && /userassigned/i.test(identity.type)
        ? primary
          ? `its primaryUserAssignedIdentityId ${primary} is not one of its assigned identities`
          : "it has user-assigned identities but no primaryUserAssignedIdentityId"
        : "it has no managed identity";
    return r.fail(withMessage(subject, `${mi.name} cannot authenticate to the HSM for TDE: ${why}.`));
  }).concat(unreadListResults(ctx, r, "consumers.sqlManagedInstances", "SQL managed instances", expected));
}
