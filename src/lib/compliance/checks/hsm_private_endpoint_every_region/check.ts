import type { PrivateEndpointConnectionSnapshot } from "../../../estate/snapshot.js";
import { privateEndpointRef } from "../../../estate/partRef.js";
import { sameRegion } from "../../query.js";
import { armName, hsmPartUnknown, isAzureValue, requiredRegions } from "../../query/hsm.js";
import { hsmPairs } from "../../query.js";
import { errorsFor, resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const endpointName = (c: PrivateEndpointConnectionSnapshot): string => armName(c.privateEndpointId) ?? armName(c.id) ?? c.id;

/**
 * Region coverage is decided per region: a region is covered by an Approved connection whose endpoint
 * is known to be there. An endpoint whose location could not be read cannot un-cover a covered region,
 * so it only matters for the regions still missing — and each endpoint sits in one region, so fewer
 * unreadable endpoints than missing regions is already a definite FAIL.
 */
export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).map((pair) => {
    const { resource, hsm } = pair;
    const required = requiredRegions(pair.policy);
    const expected = { approvedPrivateEndpointIn: required };
    const connections = hsm.privateEndpointConnections;
    if (connections === null) return hsmPartUnknown(ctx, r, pair, "managedHsm.privateEndpointConnections", "private endpoint connections", expected);

    const approved = connections.filter((c) => isAzureValue(c.status, "Approved"));
    const unlocated = approved.filter((c) => c.privateEndpointLocation === null);
    const missing = required.filter((region) => !approved.some((c) => sameRegion(c.privateEndpointLocation, region)));
    const observed = {
      connections: connections.map((c) => ({ privateEndpoint: endpointName(c), status: c.status ?? null, location: c.privateEndpointLocation })),
      regionsWithoutApprovedEndpoint: missing,
      approvedEndpointsWithUnknownLocation: unlocated.map(endpointName),
    };
    const unlocatedNote = `the location of approved endpoint(s) ${unlocated.map(endpointName).join(", ")} could not be read`;

    if (missing.length === 0) {
      const note = unlocated.length > 0 ? ` (${unlocatedNote}, but endpoints of known location already cover every region)` : "";
      return r.pass({ resource, message: `${resource.name} has an approved private endpoint in each of ${required.join(", ")}${note}.`, observed, expected });
    }
    if (unlocated.length === 0) {
      return r.fail({ resource, message: `${resource.name} has no approved private endpoint in ${missing.join(", ")}${notApprovedHint(connections, missing)}.`, observed, expected });
    }
    if (unlocated.length < missing.length) {
      return r.fail({
        resource,
        message: `${resource.name} lacks an approved private endpoint in at least ${missing.length - unlocated.length} of ${missing.join(", ")}: ${unlocatedNote}, and each endpoint covers one region at most.`,
        observed,
        expected,
      });
    }
    return r.unknown({
      resource,
      message: `${resource.name} has no approved private endpoint known to be in ${missing.join(", ")}, and ${unlocatedNote}, so they may be there.`,
      observed,
      expected,
      errors: unlocated.flatMap((c) => (c.privateEndpointId ? errorsFor(ctx, "managedHsm.privateEndpoint", privateEndpointRef(pair.policy.resourceId, c.privateEndpointId)) : [])),
    });
  });
}

/** Names endpoints that sit in a missing region but are not (yet) approved: the quickest fix. */
function notApprovedHint(connections: PrivateEndpointConnectionSnapshot[], missing: string[]): string {
  const waiting = connections.filter((c) => !isAzureValue(c.status, "Approved") && missing.some((region) => sameRegion(c.privateEndpointLocation, region)));
  return waiting.length === 0 ? "" : ` (${waiting.map((c) => `${endpointName(c)} is ${c.status ?? "in an unknown state"}`).join(", ")})`;
}
