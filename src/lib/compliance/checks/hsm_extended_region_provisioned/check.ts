import { sameRegion } from "../../query.js";
import { hsmPartUnknown, isAzureValue } from "../../query/hsm.js";
import { hsmPairs } from "../../query.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).map((pair) => {
    const { resource, hsm, policy } = pair;
    const expected = { primary: policy.regions.primary, extended: policy.regions.extended.map((name) => ({ name, provisioningState: "Succeeded" })) };
    const regions = hsm.regions;
    if (regions === null) return hsmPartUnknown(ctx, r, pair, "managedHsm.regions", "regions", expected);

    // The regions list marks the primary; the resource's own location is the primary too, when the list does not say.
    const primary = regions.find((region) => region.isPrimary)?.name ?? hsm.location ?? null;
    const observed = { primary, regions: regions.map((region) => ({ name: region.name, isPrimary: region.isPrimary, provisioningState: region.provisioningState ?? null })) };
    const problems: string[] = [];
    if (!sameRegion(primary, policy.regions.primary)) problems.push(`its primary region is ${primary ?? "not reported"}, not ${policy.regions.primary}`);
    for (const name of policy.regions.extended) {
      const region = regions.find((candidate) => sameRegion(candidate.name, name));
      if (!region) problems.push(`${name} is not one of its regions`);
      else if (region.isPrimary) problems.push(`${name} is its primary, not an extended region`);
      else if (!isAzureValue(region.provisioningState, "Succeeded")) problems.push(`${name} is ${region.provisioningState ?? "in an unreported state"}, not Succeeded`);
    }
    const extended = policy.regions.extended.length > 0 ? `replicated to ${policy.regions.extended.join(", ")}` : "not required to replicate";
    return problems.length === 0
      ? r.pass({ resource, message: `${resource.name} has primary ${policy.regions.primary} and is ${extended}.`, observed, expected })
      : r.fail({ resource, message: `${resource.name} does not match the policy's regions: ${problems.join("; ")}.`, observed, expected });
  });
}
