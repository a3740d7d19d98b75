import { unreadListResults } from "../../query/consumers.js";
import { resultsFor, withMessage } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const allowed = ctx.policy.thresholds.allowedDiskEncryptionTypes;
  const expected = { encryptionType: allowed };
  const desList = ctx.snapshot.consumers.diskEncryptionSets;

  return desList.map((des) => {
    const resource = { id: des.resourceId, name: des.name };
    const type = des.encryptionType;
    if (type === undefined) {
      return r.unknown({ resource, message: `${des.name} did not report its encryption type.`, expected, errors: [] });
    }
    const subject = { resource, observed: { encryptionType: type }, expected };
    return allowed.some((a) => a.toLowerCase() === type.toLowerCase())
      ? r.pass(withMessage(subject, `${des.name} uses the allowed encryption type ${type}.`))
      : r.fail(withMessage(subject, `${des.name} uses ${type}, which the policy does not allow (allowed: ${allowed.join(", ")}).`));
  }).concat(unreadListResults(ctx, r, "consumers.diskEncryptionSets", "disk encryption sets", expected));
}
