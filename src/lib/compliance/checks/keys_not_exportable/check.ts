import { perConfiguredKey } from "../../query/keys.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const expected = { exportable: false, hasReleasePolicy: false };
  return perConfiguredKey(ctx, metadata, {
    expected: () => expected,
    evaluate: ({ key, keyResource: resource }, r) => {
      // The service omits `exportable` when it is false (the default at creation).
      const exportable = key.exportable ?? false;
      const observed = { exportable, hasReleasePolicy: key.hasReleasePolicy };
      if (!exportable && !key.hasReleasePolicy) return r.pass({ resource, message: `Key ${resource.name} cannot leave the HSM.`, observed, expected });
      const what = [exportable ? "is exportable" : "", key.hasReleasePolicy ? "has a release policy" : ""].filter(Boolean).join(" and ");
      return r.fail({ resource, message: `Key ${resource.name} ${what}: replace it with a non-exportable key without a release policy.`, observed, expected });
    },
  });
}
