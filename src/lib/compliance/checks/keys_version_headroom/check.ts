import { errorsFor } from "../../result.js";
import { perConfiguredKey } from "../../query/keys.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const { maxKeyVersions, keyVersionHeadroom } = ctx.policy.thresholds;
  const limit = maxKeyVersions - keyVersionHeadroom;
  const expected = { versionsBelow: limit, maxKeyVersions };
  return perConfiguredKey(ctx, metadata, {
    expected: () => expected,
    evaluate: ({ key, keyResource: resource, keyAbout }, r) => {
      if (key.versions === null) {
        return r.unknown({ resource, message: `The versions of key ${resource.name} could not be listed.`, expected, errors: errorsFor(ctx, "key.versions", keyAbout) });
      }
      const versions = key.versions.length;
      const observed = { versions, remaining: Math.max(0, maxKeyVersions - versions) };
      if (versions < limit) return r.pass({ resource, message: `Key ${resource.name} has ${versions} of ${maxKeyVersions} versions.`, observed, expected });
      return versions >= maxKeyVersions
        ? r.fail({ resource, severity: "critical", message: `Key ${resource.name} is at the ${maxKeyVersions}-version cap and cannot rotate: move its consumers to a new key.`, observed, expected })
        : r.fail({ resource, message: `Key ${resource.name} has ${versions} of ${maxKeyVersions} versions (${maxKeyVersions - versions} left): plan the move to a new key before rotation stops.`, observed, expected });
    },
  });
}
