import { hsmPartUnknown } from "../../query/hsm.js";
import { hsmPairs } from "../../query.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const minDays = ctx.policy.thresholds.softDeleteRetentionMinDays;
  const expected = { enableSoftDelete: true, minSoftDeleteRetentionInDays: minDays };
  return hsmPairs(ctx).map((pair) => {
    const { resource } = pair;
    const p = pair.hsm.properties;
    if (p === null) return hsmPartUnknown(ctx, r, pair, "managedHsm", "properties", expected);
    const days = p.softDeleteRetentionInDays;
    const observed = { enableSoftDelete: p.enableSoftDelete ?? null, softDeleteRetentionInDays: days ?? null };
    if (p.enableSoftDelete !== true) {
      return r.fail({ resource, message: `${resource.name} does not report soft delete as enabled, so deleted keys may not be recoverable.`, observed, expected });
    }
    if (days === undefined) {
      // A successful read that omits the field is not evidence of the 90-day default: report it, don't assume it.
      return r.fail({ resource, message: `${resource.name} does not report a soft-delete retention period; set softDeleteRetentionInDays to at least ${minDays} days explicitly.`, observed, expected });
    }
    return days >= minDays
      ? r.pass({ resource, message: `${resource.name} keeps deleted keys recoverable for ${days} days (policy minimum ${minDays}).`, observed, expected })
      : r.fail({ resource, message: `${resource.name} keeps deleted keys recoverable for only ${days} days; the policy requires at least ${minDays}.`, observed, expected });
  });
}
