import { hsmPartUnknown, isAzureValue } from "../../query/hsm.js";
import { hsmPairs } from "../../query.js";
import { errorsFor, resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const expected = { publicNetworkAccess: "Disabled", networkAclsDefaultAction: "Deny", networkAclsServiceTags: [] };

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).map((pair) => {
    const { resource } = pair;
    const p = pair.hsm.properties;
    if (p === null) return hsmPartUnknown(ctx, r, pair, "managedHsm", "properties", expected);
    // Service-tag rules (ARM 2025-05-01+) admit each tag's public address ranges: public exposure like an open firewall.
    const serviceTags = p.networkAcls === undefined ? [] : (p.networkAcls.serviceTags ?? null);
    const observed = { publicNetworkAccess: p.publicNetworkAccess ?? null, networkAclsDefaultAction: p.networkAcls?.defaultAction ?? null, networkAclsServiceTags: serviceTags };
    // Azure Policy 19ea9d63 reads only the firewall; either setting left open is a finding, and a
    // setting ARM did not report counts as not set (Azure's defaults are Enabled / Allow).
    const open = [
      isAzureValue(observed.publicNetworkAccess, "Disabled") ? null : `publicNetworkAccess is ${observed.publicNetworkAccess ?? "not reported"} (expected Disabled)`,
      isAzureValue(observed.networkAclsDefaultAction, "Deny") ? null : `the firewall default action is ${observed.networkAclsDefaultAction ?? "not reported"} (expected Deny)`,
      serviceTags === null || serviceTags.length === 0 ? null : `the firewall admits the public ranges of service tag(s) ${serviceTags.join(", ")} (expected none)`,
    ].filter((reason): reason is string => reason !== null);
    if (open.length > 0) return r.fail({ resource, message: `${resource.name} can be reached from public networks: ${open.join(" and ")}.`, observed, expected });
    if (serviceTags === null) {
      return r.unknown({
        resource,
        message: `The service-tag rules of ${resource.name}'s firewall were not collected (a snapshot from before they were read), so whether service tags admit public ranges is unknown.`,
        observed,
        expected,
        errors: errorsFor(ctx, "managedHsm", pair.about),
      });
    }
    return r.pass({ resource, message: `${resource.name} has public network access disabled, its firewall denies by default and admits no service tag.`, observed, expected });
  });
}
