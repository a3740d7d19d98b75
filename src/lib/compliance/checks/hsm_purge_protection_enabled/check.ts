import { hsmPairs } from "../../query.js";
import { hsmRef } from "../../../estate/partRef.js";
import { errorsFor, resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).map(({ hsm, resource }) => {
    const expected = { enableSoftDelete: true, enablePurgeProtection: true };
    const p = hsm.properties;
    if (p === null) {
      return r.unknown({ resource, message: `The properties of ${resource.name} could not be read.`, expected, errors: errorsFor(ctx, "managedHsm", hsmRef(hsm.resourceId)) });
    }
    const observed = { enableSoftDelete: p.enableSoftDelete ?? null, enablePurgeProtection: p.enablePurgeProtection ?? null };
    return p.enableSoftDelete === true && p.enablePurgeProtection === true
      ? r.pass({ resource, message: `${resource.name} has soft delete and purge protection enabled.`, observed, expected })
      : r.fail({ resource, message: `${resource.name} does not have ${p.enablePurgeProtection === true ? "soft delete" : "purge protection"} enabled.`, observed, expected });
  });
}
