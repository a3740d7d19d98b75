import { missingAttribute, perConfiguredKey } from "../../query/keys.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const expected = { exists: true, enabled: true };
  return perConfiguredKey(ctx, metadata, {
    expected: () => expected,
    absent: ({ keyResource: resource, policy }, r) => [
      r.fail({ resource, message: `Configured key ${resource.name} does not exist in ${policy.name}: recover or create it before its consumers lose access.`, observed: { exists: false, enabled: null }, expected }),
    ],
    evaluate: (pair, r) => {
      const { key, keyResource: resource } = pair;
      if (key.enabled === undefined) return missingAttribute(ctx, pair, r, "enabled attribute", expected);
      const observed = { exists: true, enabled: key.enabled };
      return key.enabled
        ? r.pass({ resource, message: `Key ${resource.name} exists and is enabled.`, observed, expected })
        : r.fail({ resource, message: `Key ${resource.name} exists but its current version is disabled: enable it before its consumers lose access.`, observed, expected });
    },
  });
}
