import { hsmPartUnknown, isAzureValue } from "../../query/hsm.js";
import { hsmPairs } from "../../query.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const expected = { publicNetworkAccess: "Disabled", networkAclsDefaultAction: "Deny" };

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).map((pair) => {
    const { resource } = pair;
    const p = pair.hsm.properties;
    if (p === null) return hsmPartUnknown(ctx, r, pair, "managedHsm", "properties", expected);
    const observed = { publicNetworkAccess: p.publicNetworkAccess ?? null, networkAclsDefaultAction: p.networkAcls?.defaultAction ?? null };
    // Azure Policy 19ea9d63 reads only the firewall; either setting left open is a finding, and a
    // setting ARM did not report counts as not set (Azure's defaults are Enabled / Allow).
    const open = [
      isAzureValue(observed.publicNetworkAccess, "Disabled") ? null : `publicNetworkAccess is ${observed.publicNetworkAccess ?? "not reported"} (expected Disabled)`,
      isAzureValue(observed.networkAclsDefaultAction, "Deny") ? null : `the firewall default action is ${observed.networkAclsDefaultAction ?? "not reported"} (expected Deny)`,
    ].filter((reason): reason is string => reason !== null);
    return open.length === 0
      ? r.pass({ resource, message: `${resource.name} has public network access disabled and its firewall denies by default.`, observed, expected })
      : r.fail({ resource, message: `${resource.name} can be reached from public networks: ${open.join(" and ")}.`, observed, expected });
  });
}
