import { daysBetween, missingAttribute, perConfiguredKey, roundDays } from "../../query/keys.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  return perConfiguredKey(ctx, metadata, {
    expected: ({ keyPolicy }) => ({ maxAgeDays: keyPolicy.rotation.rotateAfter.days, rotateAfter: keyPolicy.rotation.rotateAfter.iso }),
    evaluate: (pair, r, expected) => {
      const { key, keyPolicy, keyResource: resource } = pair;
      if (!key.createdOn) return missingAttribute(ctx, pair, r, "creation time", expected);
      const { rotateAfter, expireAfter } = keyPolicy.rotation;
      const ageDays = daysBetween(new Date(key.createdOn), ctx.now);
      const observed = { currentVersion: key.currentVersion ?? null, createdOn: key.createdOn, ageDays: roundDays(ageDays) };
      if (ageDays <= rotateAfter.days) {
        return r.pass({ resource, message: `The current version of key ${resource.name} is ${roundDays(ageDays)} days old, within rotateAfter ${rotateAfter.iso}.`, observed, expected });
      }
      return ageDays > expireAfter.days
        ? r.fail({ resource, severity: "critical", message: `The current version of key ${resource.name} is ${roundDays(ageDays)} days old, beyond its cryptoperiod ${expireAfter.iso}: rotate it now.`, observed, expected })
        : r.fail({ resource, severity: "high", message: `The current version of key ${resource.name} is ${roundDays(ageDays)} days old and overdue for rotation (rotateAfter ${rotateAfter.iso}): rotate it.`, observed, expected });
    },
  });
}
