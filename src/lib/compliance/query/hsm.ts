import type { ManagedHsmPolicy } from "../../config/types.js";
import type { SnapshotPart } from "../../estate/snapshot.js";
import type { HsmPair } from "../query.js";
import { errorsFor, type Results } from "../result.js";
import type { CheckContext, ControlResult, EvidenceValue } from "../types.js";

/** Shared, pure lookups for the Managed HSM (hsm_) controls. */

/** The regions the policy requires the HSM to serve: the primary first, then the extended ones. */
export function requiredRegions(policy: ManagedHsmPolicy): string[] {
  return [policy.regions.primary, ...policy.regions.extended];
}

/** Azure enum values (Approved, Succeeded, Disabled, Deny, Active...) compared case-insensitively. */
export function isAzureValue(actual: string | null | undefined, expected: string): boolean {
  return typeof actual === "string" && actual.toLowerCase() === expected.toLowerCase();
}

/** The last segment of an ARM resource id (a readable name for evidence). */
export function armName(resourceId: string | undefined): string | null {
  return resourceId?.split("/").filter(Boolean).pop() ?? null;
}

/**
 * The UNKNOWN result for an HSM whose `part` could not be read, carrying the collection errors about
 * it. Also used when the HSM is missing from the snapshot altogether (then there may be no error).
 */
export function hsmPartUnknown(
  ctx: CheckContext,
  r: Results,
  pair: HsmPair,
  part: SnapshotPart,
  what: string,
  expected: EvidenceValue,
): ControlResult {
  return r.unknown({
    resource: pair.resource,
    message: `The ${what} of ${pair.resource.name} could not be read, so this control cannot be evaluated.`,
    expected,
    errors: errorsFor(ctx, part, pair.about),
  });
}
