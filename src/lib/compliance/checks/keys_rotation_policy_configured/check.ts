import { errorsFor } from "../../result.js";
import { perConfiguredKey } from "../../query/keys.js";
import { rotationPolicyProblems } from "../../query/rotationPolicy.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  return perConfiguredKey(ctx, metadata, {
    expected: ({ keyPolicy }) => ({
      action: "Rotate",
      rotateNoLaterThan: keyPolicy.rotation.rotateAfter.iso,
      expiresInAtMost: keyPolicy.rotation.expireAfter.iso,
    }),
    evaluate: ({ key, keyPolicy, keyResource: resource, keyAbout }, r, expected) => {
      const policy = key.rotationPolicy;
      if (policy === null) {
        return r.unknown({ resource, message: `The rotation policy of key ${resource.name} could not be read.`, expected, errors: errorsFor(ctx, "key.rotationPolicy", keyAbout) });
      }
      const observed = {
        expiresIn: policy.expiresIn ?? null,
        lifetimeActions: policy.lifetimeActions.map((a) => ({
          action: a.action,
          timeAfterCreate: a.timeAfterCreate ?? null,
          timeBeforeExpiry: a.timeBeforeExpiry ?? null,
        })),
      };
      const problems = rotationPolicyProblems(policy, keyPolicy.rotation);
      return problems.length === 0
        ? r.pass({ resource, message: `Key ${resource.name} rotates and expires its versions within the configured cryptoperiod.`, observed, expected })
        : r.fail({ resource, message: `The rotation policy of key ${resource.name} does not fit the policy: ${problems.join("; ")}.`, observed, expected });
    },
  });
}
